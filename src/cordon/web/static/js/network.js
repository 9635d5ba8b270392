// Draws the transmission network: cases, their close contacts and companions, and the close
// contacts' secondary contacts, as a force-directed graph coloured by kind; people are
// labelled by name and a click opens the case or the person.
(function () {
  "use strict";

  var KINDS = ["case", "close", "secondary", "companion"];
  var COLOURS = { case: "#c92a2a", close: "#e8590c", secondary: "#f59f00", companion: "#1c7ed6" };

  function start() {
    var element = document.getElementById("network-graph");
    var source = document.getElementById("network-data");
    if (!element || !source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      tooltip: { formatter: function (p) { return p.data.name || ""; } },
      legend: { data: KINDS.map(function (k) { return data.labels[k]; }), top: 8 },
      series: [{
        type: "graph", layout: "force", roam: true, draggable: true,
        // A small graph spreads out so its names can be read; a large one stays compact.
        force: data.nodes.length <= 80
          ? { repulsion: 300, edgeLength: 90, gravity: 0.05 }
          : { repulsion: 60, edgeLength: 30, gravity: 0.08 },
        categories: KINDS.map(function (k) {
          return { name: data.labels[k], itemStyle: { color: COLOURS[k] } };
        }),
        data: data.nodes.map(function (n) {
          return {
            id: n.id, name: n.label, category: KINDS.indexOf(n.kind),
            symbolSize: (n.kind === "case" ? 16 : 6) + 3 * Math.sqrt(n.value)
          };
        }),
        links: data.links.map(function (l) { return { source: l[0], target: l[1] }; }),
        // Names beside the nodes while the graph is small enough to read them.
        label: { show: data.nodes.length <= 80, position: "right", fontSize: 11 },
        lineStyle: { color: "source", opacity: 0.5 }
      }]
    });
    // A case opens its page, a person their record (names come masked as the role requires).
    chart.on("click", function (p) {
      var id = (p.data && p.data.id) || "";
      var parts = id.split(":");
      if (parts[0] === "case") { window.location.href = "/cases/" + parts[1]; }
      if (parts[0] === "person" && p.data.name) { window.location.href = "/people/" + parts[1]; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
