// Draws a round's grids on a map, coloured by the share of their people sampled.
(function () {
  "use strict";

  function start() {
    var element = document.getElementById("coverage-map");
    var source = document.getElementById("coverage-data");
    if (!element || !source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    if (!data.points.length) { element.style.display = "none"; return; }
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      tooltip: {
        formatter: function (p) {
          return p.name + "<br>" + data.labels.coverage + ": " + p.value[2] + " %<br>" +
            data.labels.sampled + ": " + p.data.sampled + " / " + p.data.expected;
        }
      },
      xAxis: { type: "value", scale: true, show: false },
      yAxis: { type: "value", scale: true, show: false },
      visualMap: {
        min: 0, max: 100, dimension: 2, calculable: true, left: 12, bottom: 12,
        text: ["100 %", "0 %"], inRange: { color: ["#c92a2a", "#f59f00", "#2b8a3e"] }
      },
      series: [{
        type: "scatter", symbolSize: 14,
        data: data.points.map(function (p) {
          return { name: p.name, value: p.value, sampled: p.sampled, expected: p.expected };
        })
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
