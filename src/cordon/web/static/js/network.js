// Draws the transmission network: cases, their close contacts and companions, and the close
// contacts' secondary contacts, as a force-directed graph. Contacts are coloured by priority
// tier (companions apart) and sized by exposure score, cases by the people hanging off them,
// so the riskiest stand out however many are drawn; secondary contacts are triangles. People
// are labelled by name (masked as the role requires; overlapping labels are hidden) and a
// click opens the case or the person.
(function () {
  "use strict";

  var CATEGORIES = ["case", "tier1", "tier2", "tier3", "companion", "untiered"];
  var COLOURS = {
    case: "#343a40", tier1: "#c92a2a", tier2: "#e8590c", tier3: "#f2c200",
    companion: "#1c7ed6", untiered: "#adb5bd"
  };

  function category(n) {
    if (n.kind === "case" || n.kind === "companion") { return n.kind; }
    return n.tier ? "tier" + Math.min(n.tier, 3) : "untiered";
  }

  function size(n) {
    // A case grows with the people hanging off it (slowly: a case may have thousands), a
    // contact with its score only, so the riskiest look the largest; how many people a node
    // stands for is in its tooltip.
    if (n.kind === "case") { return 22 + 6 * Math.log10(Math.max(n.value, 1)); }
    return 5 + 30 * Math.sqrt(n.score || 0);
  }

  function percent(score) {
    if (!score) { return "0%"; }
    return score < 0.001 ? "<0.1%" : (score * 100).toFixed(1) + "%";
  }

  function start() {
    var element = document.getElementById("network-graph");
    var source = document.getElementById("network-data");
    if (!element || !source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var labels = data.labels;
    var used = {};
    data.nodes.forEach(function (n) { used[category(n)] = true; });
    var shown = CATEGORIES.filter(function (c) { return used[c] && labels[c]; });
    var large = data.nodes.length > 80;
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      tooltip: {
        formatter: function (p) {
          var n = p.data && p.data.node;
          if (!n) { return ""; }
          var lines = [p.data.name || ""];
          if (n.kind !== "case") {
            lines.push((labels[n.kind] || n.kind) + " · " + (labels[category(n)] || ""));
            lines.push(labels.score + " " + percent(n.score));
          }
          if (n.value > 1) { lines.push(labels.people + " " + n.value); }
          return lines.map(function (line) { return echarts.format.encodeHTML(line); }).join("<br>");
        }
      },
      legend: { data: shown.map(function (c) { return labels[c]; }), top: 8 },
      series: [{
        type: "graph", layout: "force", roam: true, draggable: true,
        // A small graph spreads out so its names can be read; a large one stays compact.
        force: large
          ? { repulsion: 70, edgeLength: [15, 55], gravity: 0.12, friction: 0.2 }
          : { repulsion: 300, edgeLength: 90, gravity: 0.05 },
        top: 48, bottom: 8,
        categories: CATEGORIES.map(function (c) {
          return { name: labels[c] || c, itemStyle: { color: COLOURS[c] } };
        }),
        data: data.nodes.map(function (n) {
          var s = size(n);
          return {
            id: n.id, name: n.label, node: n, category: CATEGORIES.indexOf(category(n)),
            symbol: n.kind === "secondary" ? "triangle" : "circle",
            symbolSize: s,
            // Cases and the highest tier carry their names in a large graph; the rest on hover.
            label: { show: !large || n.kind === "case" || (n.tier === 1 && s > 13) },
            itemStyle: n.kind === "case" ? { borderColor: "#fff", borderWidth: 2 } : undefined
          };
        }),
        links: data.links.map(function (l) { return { source: l[0], target: l[1] }; }),
        label: { position: "right", fontSize: 11 },
        labelLayout: { hideOverlap: true },
        emphasis: { focus: "adjacency", label: { show: true } },
        lineStyle: { color: "#868e96", opacity: 0.35 }
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
