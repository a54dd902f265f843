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
// 3. A calendar beside a typed date: the native date picker fills the text field as dd/mm/yyyy, and
//    opens on the date already typed there.
document.addEventListener("change", function (evt) {
  var picker = evt.target;
  if (!picker.matches || !picker.matches("input.date-picker[data-fills]") || !picker.value) { return; }
  var field = document.getElementById(picker.getAttribute("data-fills"));
  var parts = picker.value.split("-");
  if (field && parts.length === 3) { field.value = parts[2] + "/" + parts[1] + "/" + parts[0]; }
});
document.addEventListener("focusin", function (evt) {
  var picker = evt.target;
  if (!picker.matches || !picker.matches("input.date-picker[data-fills]")) { return; }
  var field = document.getElementById(picker.getAttribute("data-fills"));
  var m = field && /^(\d{1,2})\D+(\d{1,2})\D+(\d{4})$/.exec(field.value.trim());
  if (m) { picker.value = m[3] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[1]).slice(-2); }
});
// 4. A table wider than the phone scrolls inside its own box; that box must be reachable from the
//    keyboard (and named) so it can be scrolled without a touch screen.
function focusableScrollers(root) {
  var tables = (root || document).querySelectorAll ? (root || document).querySelectorAll("table") : [];
  Array.prototype.forEach.call(tables, function (table) {
    if (table.scrollWidth > table.clientWidth + 1) {
      table.tabIndex = 0;
      if (!table.hasAttribute("aria-label") && table.caption) {
        table.setAttribute("aria-label", table.caption.textContent.trim());
      }
    }
  });
}
document.addEventListener("DOMContentLoaded", function () { focusableScrollers(document); });
document.addEventListener("htmx:afterSettle", function (evt) { focusableScrollers(evt.target); });
window.addEventListener("resize", function () { focusableScrollers(document); });
