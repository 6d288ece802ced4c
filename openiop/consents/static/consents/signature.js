// The signature pad: draw with a finger, stylus or mouse; the drawing travels as a PNG data URL in a hidden
// field. A drawing already in the field (the form came back with an error) is painted back, so nothing is lost.
(function () {
  document.querySelectorAll("[data-signature-pad]").forEach(function (wrap) {
    var canvas = wrap.querySelector("canvas");
    var field = document.getElementById(wrap.dataset.signaturePad);
    var clear = wrap.querySelector("[data-signature-clear]");
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;

    function setup() {
      var ratio = window.devicePixelRatio || 1;
      canvas.width = canvas.clientWidth * ratio;
      canvas.height = canvas.clientHeight * ratio;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.2;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
    }
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }
    function save() { field.value = drawn ? canvas.toDataURL("image/png") : ""; }

    setup();
    if (field.value) {
      var image = new Image();
      image.onload = function () { ctx.drawImage(image, 0, 0, canvas.clientWidth, canvas.clientHeight); drawn = true; };
      image.src = field.value;
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var p = point(event);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      drawn = true;
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { if (drawing) { drawing = false; save(); } });
    });
    clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      save();
    });
  });
})();
