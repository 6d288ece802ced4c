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
