// The survivor web page's script. Without it the page still works (plain form posts, the
// exit link); with it:
// - Quick exit: the button (Enter or Space), or Shift pressed three times in a row within
//   1.5 s with no other key between the presses (capitals and Shift+Tab do not count),
//   replaces this history entry with a neutral page, so Back does not return here; the
//   server ends the session when that page is fetched.
// - The text in her box is saved to her session as she types, so that a quick exit loses
//   nothing: the server keeps it in memory and gives it back at her next sign-in.
// - The status of the last action (an error, or "Sent.") gets the focus, so screen readers
//   read it.
(function () {
  "use strict";
  var away = document.body.getAttribute("data-away");
  var box = document.getElementById("text");
  var saved = box ? box.value : "";
  var timer = null;

  function draftBody() {
    var form = box.form;
    var body = new URLSearchParams();
    body.append("t", form.querySelector("input[name=t]").value);
    body.append("a", "draft");
    body.append("text", box.value);
    return body;
  }
  function saveDraft() {
    timer = null;
    if (!box || box.value === saved) return;
    saved = box.value;
    fetch(box.form.getAttribute("action"),
          { method: "POST", body: draftBody(), credentials: "same-origin", redirect: "manual" })
      .catch(function () { saved = null; });
  }

  function leave() {
    if (box && box.value !== saved && navigator.sendBeacon) {
      navigator.sendBeacon(box.form.getAttribute("action"), draftBody());
    }
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
    // A link acting as a button: Space activates it too (Enter already follows the link).
    button.addEventListener("keydown", function (event) {
      if (event.key === " " || event.key === "Spacebar") {
        event.preventDefault();
        leave();
      }
    });
  }
  if (box) {
    box.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(saveDraft, 400);
    });
  }
  // Forms post with fetch and then replace the current entry with the same URL, so the
  // browser history keeps exactly one entry for the page (a plain form POST would add one per
  // submission). Without script the forms still work, with a longer history.
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (timer) { clearTimeout(timer); timer = null; }
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

  var status = document.getElementById("status");
  if (status) status.focus();

  if (!away) return;  // the cover page has no quick exit of its own
  var presses = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift") {
      presses = [];  // any other key (a capital, Shift+Tab) breaks the sequence
      return;
    }
    if (event.repeat) return;
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 1500; });
    presses.push(now);
    if (presses.length >= 3) leave();
  });
  document.addEventListener("mousedown", function () { presses = []; });
})();
