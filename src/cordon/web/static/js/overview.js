// Draws the overview map: counties coloured by registered people (ECharts map series) and
// Dongxing's towns as circles at their seats (there are no town outlines in the data).
(function () {
  "use strict";

  function draw(element, data, geojson) {
    echarts.registerMap("fangchenggang", geojson);
    var chart = echarts.init(element, null, { renderer: "canvas" });
    var counties = data.counties.map(function (c) { return { name: c.name, value: c.count }; });
    var maxCounty = Math.max(1, Math.max.apply(null, data.counties.map(function (c) { return c.count; })));
    var maxTown = Math.max(1, Math.max.apply(null, data.towns.map(function (t) { return t.count; })));
    chart.setOption({
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var n = Array.isArray(p.value) ? p.value[2] : p.value;
          return p.name + "<br>" + data.labels.people + ": " + (isNaN(n) ? 0 : n);
        }
      },
      visualMap: {
        type: "continuous", min: 0, max: maxCounty, seriesIndex: 0, calculable: true,
        left: 12, bottom: 12, text: [data.labels.high, data.labels.low],
        inRange: { color: ["#e8f0f9", "#9dbfe3", "#2f6db3"] }
      },
      geo: {
        map: "fangchenggang", roam: true,
        label: { show: true, color: "#243447", fontSize: 12 },
        itemStyle: { borderColor: "#5b6b7c", borderWidth: 1 },
        emphasis: { label: { show: true }, itemStyle: { areaColor: "#ffd8a8" } }
      },
      series: [
        { type: "map", geoIndex: 0, name: data.labels.people, data: counties },
        {
          type: "scatter", coordinateSystem: "geo", name: data.labels.towns, zlevel: 1,
          data: data.towns.map(function (t) { return { name: t.name, value: [t.lon, t.lat, t.count] }; }),
          symbolSize: function (v) { return 10 + 26 * Math.sqrt(v[2] / maxTown); },
          itemStyle: { color: "#d9480f", opacity: 0.85, borderColor: "#fff", borderWidth: 1 },
          label: { show: true, position: "right", formatter: "{b}", color: "#7a2a06", fontWeight: "bold" }
        }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() { window.CordonMaps.withBoundaries("overview-map", "overview-data", draw); }

  window.CordonMaps.whenReady(start);
})();
