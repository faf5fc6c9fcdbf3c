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

// Fields with a hide condition (Camunda Forms): as people fill the form in, ask the server, which
// works the conditions out, which fields to hide. Without this script the page still works: the
// server shows them after the form is sent.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form").forEach(function (form) {
    if (!form.querySelector("[data-condition]")) { return; }
    var pending = null;
    function refresh() {
      var data = new FormData(form);
      Array.from(data.keys()).forEach(function (key) {  // files are not needed to decide
        if (data.getAll(key).some(function (value) { return value instanceof File; })) { data.delete(key); }
      });
      data.set("_conditions", "1");
      fetch(form.getAttribute("action") || window.location.href,
            {method: "POST", body: data, credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (result) {
          if (!result || !Array.isArray(result.hidden)) { return; }
          form.querySelectorAll("[data-condition]").forEach(function (wrapper) {
            wrapper.hidden = result.hidden.indexOf(wrapper.getAttribute("data-condition")) !== -1;
          });
        })
        .catch(function () { /* the server decides when the form is sent */ });
    }
    form.addEventListener("change", function () {
      clearTimeout(pending);
      pending = setTimeout(refresh, 150);
    });
  });
});
