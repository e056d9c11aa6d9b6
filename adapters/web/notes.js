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
  // Forms post with fetch and then replace the current entry with the same URL, so the
  // browser history keeps exactly one entry for the page (a plain form POST would add one per
  // submission). Without script the forms still work, with a longer history.
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = new URLSearchParams(new FormData(form));
      if (event.submitter && event.submitter.name) {
        body.append(event.submitter.name, event.submitter.value);
      }
      var target = form.getAttribute("action");
      fetch(target, { method: "POST", body: body, credentials: "same-origin", redirect: "manual" })
        .then(function () { window.location.replace(target); },
              function () { window.location.replace(target); });
    });
  });

  var presses = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift" || event.repeat) return;
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 1500; });
    presses.push(now);
    if (presses.length >= 3) leave();
  });
})();
