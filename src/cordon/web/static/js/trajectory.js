// Draws a case's trajectory: the places it stayed in its window, numbered in time order and
// joined by lines, over the county outlines. Runs on load and after HTMX puts the panel in.
(function () {
  "use strict";

  function draw(element, data, geojson) {
    echarts.registerMap("fangchenggang", geojson);
    var chart = echarts.init(element, null, { renderer: "canvas" });
    var stops = data.stops.filter(function (s) { return s.lon !== null && s.lat !== null; });
    var points = stops.map(function (s, i) {
      return { name: (i + 1) + ". " + s.name, value: [s.lon, s.lat, i + 1],
               start: s.start, end: s.end };
    });
    var path = [];
    for (var i = 1; i < stops.length; i++) {
      path.push({ coords: [[stops[i - 1].lon, stops[i - 1].lat], [stops[i].lon, stops[i].lat]] });
    }
    var lons = stops.map(function (s) { return s.lon; });
    var lats = stops.map(function (s) { return s.lat; });
    var center = stops.length
      ? [(Math.min.apply(null, lons) + Math.max.apply(null, lons)) / 2,
         (Math.min.apply(null, lats) + Math.max.apply(null, lats)) / 2]
      : undefined;
    chart.setOption({
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          return p.data && p.data.start
            ? p.name + "<br>" + p.data.start.slice(0, 16).replace("T", " ") + " – " +
              p.data.end.slice(11, 16) + " UTC"
            : p.name;
        }
      },
      geo: {
        map: "fangchenggang", roam: true, center: center, zoom: stops.length ? 12 : 1,
        itemStyle: { areaColor: "#eef2f6", borderColor: "#5b6b7c" }
      },
      series: [
        {
          type: "lines", coordinateSystem: "geo", data: path, zlevel: 1,
          lineStyle: { color: "#c92a2a", width: 2, opacity: 0.7 },
          effect: { show: false }
        },
        {
          type: "scatter", coordinateSystem: "geo", data: points, zlevel: 2, symbolSize: 14,
          itemStyle: { color: "#c92a2a", borderColor: "#fff", borderWidth: 1 },
          label: { show: true, formatter: function (p) { return p.value[2]; }, color: "#fff", fontSize: 9 }
        }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() { window.CordonMaps.withBoundaries("trajectory-map", "trajectory-data", draw); }

  // Only when HTMX put the map in: a swap elsewhere in the panel (the push form) must not draw
  // the chart again over itself.
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail && event.detail.elt;
    if (!swapped || swapped.id === "trajectory-map" || swapped.querySelector("#trajectory-map")) {
      start();
    }
  });
  window.CordonMaps.whenReady(start);
})();
