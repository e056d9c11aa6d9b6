// Quick exit for the survivor web page: the visible button, or Shift pressed three times
// within 1.5 s, replaces this history entry with a neutral page (so Back does not return
// here); the server ends the session when that page is fetched.
(function () {
  "use strict";
  var away = document.body.getAttribute("data-away");
  function leave() {
    document.title = "";
    document.body.textContent = "";
    window.location.replace(away);
  }
  var button = document.getElementById("exit");
  if (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      leave();
    });
  }
  var presses = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift" || event.repeat) return;
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 1500; });
    presses.push(now);
    if (presses.length >= 3) leave();
  });
})();
