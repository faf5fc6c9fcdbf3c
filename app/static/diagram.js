// Draw a request's diagram with bpmn-js (the navigated viewer: pan and zoom, no editing) and
// mark its steps: done, waiting now, failed. The XML and the markers come from same-origin
// URLs in the container's data- attributes, so the page needs no inline script. Without
// JavaScript, or if anything fails, the figure stays hidden and the text list says it all.
(function () {
  "use strict";

  var MARKS = { completed: "app-step-done", current: "app-step-current", failed: "app-step-failed" };

  function get(url, as) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: as === "json" ? "application/json" : "application/xml" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(url + ": " + response.status); }
        return as === "json" ? response.json() : response.text();
      });
  }

  function mark(viewer, markers) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var current = new Set(markers.current || []);
    var failed = new Set(markers.failed || []);
    var done = new Set((markers.completed || []).filter(function (id) { return !current.has(id) && !failed.has(id); }));
    [[done, MARKS.completed], [current, MARKS.current], [failed, MARKS.failed]].forEach(function (pair) {
      pair[0].forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, pair[1]); }
      });
    });
    // A label on a step: a figure drawn beside it (the reports' median days waiting).
    var overlays = viewer.get("overlays");
    Object.keys(markers.labels || {}).forEach(function (id) {
      if (!registry.get(id)) { return; }
      var badge = document.createElement("span");
      badge.className = "app-step-label";
      badge.textContent = markers.labels[id];
      overlays.add(id, { position: { top: -22, left: 0 }, html: badge });
    });
    // A flow was taken when it leads from a done element to a done, current or failed one.
    registry.filter(function (element) { return element.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
      var from = flow.businessObject.sourceRef && flow.businessObject.sourceRef.id;
      var to = flow.businessObject.targetRef && flow.businessObject.targetRef.id;
      if (done.has(from) && (done.has(to) || current.has(to) || failed.has(to))) {
        canvas.addMarker(flow.id, "app-flow-done");
      }
    });
  }

  function show(box) {
    var figure = box.closest("figure");
    var status = document.getElementById("diagram-status");
    if (!window.fetch || typeof window.BpmnJS !== "function") { return; }
    figure.hidden = false;
    var viewer = new window.BpmnJS({ container: box });
    var canvas = viewer.get("canvas");
    // The markers come from their own address, or with the page (data-markers, as JSON).
    var markers = box.dataset.markers ? Promise.resolve(JSON.parse(box.dataset.markers)) : get(box.dataset.markersUrl, "json");
    Promise.all([get(box.dataset.xmlUrl, "xml"), markers])
      .then(function (both) {
        return viewer.importXML(both[0]).then(function () {
          canvas.zoom("fit-viewport", "auto");
          mark(viewer, both[1]);
          // The drawing is one image to a screen reader (the viewer makes it focusable for
          // panning); the text list under the figure says what it shows.
          var svg = box.querySelector("svg");
          if (svg) {
            svg.setAttribute("role", "img");
            svg.setAttribute("aria-label", box.getAttribute("data-label") || "Diagram");
          }
        });
      })
      .then(function () {
        box.classList.add("app-diagram--ready");
        figure.querySelectorAll("[data-zoom]").forEach(function (button) {
          button.addEventListener("click", function () {
            var how = button.getAttribute("data-zoom");
            if (how === "fit") { canvas.zoom("fit-viewport", "auto"); return; }
            canvas.zoom(canvas.zoom() * (how === "in" ? 1.25 : 0.8));
          });
        });
      })
      .catch(function () {
        viewer.destroy();
        figure.hidden = true;
        if (status) { status.textContent = "The diagram could not be drawn. The steps are listed below."; }
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("diagram");
    if (box) { show(box); }
  });
})();
