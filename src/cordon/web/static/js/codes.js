// Health-code map: Fangchenggang's counties as the base, each Dongxing town a circle sized by
// the people holding a red or yellow code and coloured by the worst colour present.
(function () {
  "use strict";
  var COLOURS = { red: "#c92a2a", yellow: "#f08c00", green: "#2b8a3e" };

  function draw(element, data, geojson) {
    echarts.registerMap("fangchenggang-codes", geojson);
    var chart = echarts.init(element, null, { renderer: "canvas" });
    var most = Math.max(1, Math.max.apply(null, data.towns.map(function (t) { return t.red + t.yellow; })));
    chart.setOption({
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var t = p.data && p.data.town;
          if (!t) { return p.name; }
          return t.name + "<br>" + data.labels.red + ": " + t.red + "<br>" + data.labels.yellow + ": " +
            t.yellow + "<br>" + data.labels.green + ": " + t.green;
        }
      },
      geo: {
        map: "fangchenggang-codes", roam: true,
        label: { show: true, color: "#243447", fontSize: 12 },
        itemStyle: { areaColor: "#eef2f6", borderColor: "#5b6b7c", borderWidth: 1 }
      },
      series: [{
        type: "scatter", coordinateSystem: "geo", zlevel: 1,
        data: data.towns.map(function (t) {
          var worst = t.red ? "red" : (t.yellow ? "yellow" : "green");
          return { name: t.name, town: t, value: [t.lon, t.lat, t.red + t.yellow],
                   itemStyle: { color: COLOURS[worst] } };
        }),
        symbolSize: function (v) { return 10 + 30 * Math.sqrt(v[2] / most); },
        itemStyle: { opacity: 0.85, borderColor: "#fff", borderWidth: 1 },
        label: { show: true, position: "right", formatter: "{b}", fontWeight: "bold" }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() { window.CordonMaps.withBoundaries("codes-map", "codes-data", draw); }

  window.CordonMaps.whenReady(start);
})();
