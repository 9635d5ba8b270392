// Shared by the pages with a map of the city: fetch the division boundaries once the page (or an
// HTMX fragment) is in place, then let the page's script draw; on failure say so in the map's box.
(function () {
  "use strict";

  // mapId: the map's element; dataId: its JSON (with boundaries_url and labels.failed);
  // draw(element, data, geojson). A map is drawn once, even if start runs again.
  function withBoundaries(mapId, dataId, draw) {
    var element = document.getElementById(mapId);
    var source = document.getElementById(dataId);
    if (!element || !source || element.dataset.drawn || typeof echarts === "undefined") { return; }
    element.dataset.drawn = "1";
    var data = JSON.parse(source.textContent);
    fetch(data.boundaries_url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (geojson) { draw(element, data, geojson); })
      .catch(function () {
        element.setAttribute("role", "alert");
        element.textContent = data.labels.failed;
      });
  }

  function whenReady(start) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", start);
    } else {
      start();
    }
  }

  window.CordonMaps = { withBoundaries: withBoundaries, whenReady: whenReady };
})();
