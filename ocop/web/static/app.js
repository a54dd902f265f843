// Behaviour that a strict CSP (no inline script) keeps out of the templates.
// 1. Upload progress: htmx fires htmx:xhr:progress on the form; show it in its <progress>.
document.addEventListener("htmx:xhr:progress", function (evt) {
  var bar = evt.target.querySelector && evt.target.querySelector("progress");
  if (bar && evt.detail.lengthComputable) {
    bar.hidden = false;
    bar.value = Math.round((evt.detail.loaded / evt.detail.total) * 100);
  }
});
document.addEventListener("htmx:afterRequest", function (evt) {
  var bar = evt.target.querySelector && evt.target.querySelector("progress");
  if (bar) { bar.hidden = true; bar.value = 0; }
});
// 2. Every htmx request carries the CSRF token (read from the page's hidden input), so uploads are
//    not parsed by the CSRF middleware just to find it.
document.addEventListener("htmx:configRequest", function (evt) {
  var input = document.querySelector("input[name=_csrf_token]");
  if (input) { evt.detail.headers["x-csrftoken"] = input.value; }
});
