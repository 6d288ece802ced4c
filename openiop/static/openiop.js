// Automatic logoff on screen: after the idle limit, reload so the server ends the session and no
// patient data stays visible on an unattended screen. The server enforces the limit regardless.
(function () {
  var minutes = parseInt(document.body.dataset.idleTimeout || "0", 10);
  if (!minutes) { return; }
  var limit = minutes * 60 * 1000 + 5000;
  var timer;
  function arm() { clearTimeout(timer); timer = setTimeout(function () { window.location.reload(); }, limit); }
  ["click", "keydown", "htmx:afterRequest"].forEach(function (name) { document.addEventListener(name, arm); });
  arm();
})();

// The content security policy refuses style="" attributes (they would let injected markup restyle the page). A
// place or size the server computes (calendar blocks) travels in data-css-PROPERTY="VALUE" attributes, on an
// element marked data-css, and is set here through the CSSOM, which the policy allows. Only plain numbers with a
// unit are taken, so nothing but a length can get through. htmx.onLoad runs for the page and every swapped fragment.
(function () {
  var VALUE = /^-?\d+(\.\d+)?(%|rem|em|px)?$/;
  function apply(root) {
    var nodes = root.querySelectorAll ? Array.prototype.slice.call(root.querySelectorAll("[data-css]")) : [];
    if (root.hasAttribute && root.hasAttribute("data-css")) { nodes.push(root); }
    nodes.forEach(function (el) {
      Array.prototype.forEach.call(el.attributes, function (attr) {
        if (attr.name.indexOf("data-css-") !== 0 || !VALUE.test(attr.value)) { return; }
        el.style.setProperty(attr.name.slice("data-css-".length), attr.value);
      });
    });
  }
  if (window.htmx) { window.htmx.onLoad(apply); } else { apply(document); }
})();

// A read-only field to copy from (a questionnaire link) selects its whole text when focused; here, not in an
// onfocus="" attribute, which the content security policy refuses like any inline script.
document.addEventListener("focusin", function (event) {
  var el = event.target;
  if (el && el.matches && el.matches("input[data-select-on-focus]")) { el.select(); }
});
