// Move focus to the error summary so screen readers announce it; keyboard users land on it.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".govuk-error-summary");
  if (summary) { summary.focus(); }
  document.querySelectorAll(".govuk-error-summary__list a").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      var input = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
      (input || target).focus();
      var group = target.closest(".govuk-form-group");
      (group || target).scrollIntoView();
    });
  });
  // An email's HTML part is shown whole: its frame grows to the message's height.
  document.querySelectorAll("iframe.app-mail-frame").forEach(function (frame) {
    function fit() {
      var doc = frame.contentDocument;
      if (doc && doc.documentElement && doc.readyState === "complete") {
        frame.style.height = (doc.documentElement.scrollHeight + 2) + "px";
      }
    }
    frame.addEventListener("load", fit);
    fit();
  });
});
