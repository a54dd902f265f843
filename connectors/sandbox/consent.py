"""What every marketplace's consent page in the sandbox puts in its <head>: a viewport, so the page
fits a phone (sellers connect shops from their phones), and large enough tap targets."""

CONSENT_HEAD = (
    "<meta name='viewport' content='width=device-width, initial-scale=1'><link rel='icon' href='data:,'>"
    "<style>body{font:16px/1.5 system-ui,sans-serif;margin:1rem}label{display:flex;align-items:center;"
    "min-height:44px;gap:.5rem}input[type=radio]{width:24px;height:24px}button{min-height:44px;"
    "padding:.5rem 1rem;font:inherit;margin:.25rem 0}</style>"
)
