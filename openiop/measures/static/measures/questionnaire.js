// Show the crisis resources on the very click that gives a critical answer, before the save round-trip returns;
// the server's answer then keeps them shown (and decides for risk levels that depend on several answers).
(function () {
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input && input.matches && input.matches("input[data-critical]") && input.checked) {
      var panel = document.getElementById("crisis");
      if (panel && panel.hidden) {
        panel.hidden = false;
        panel.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    }
  });
})();
