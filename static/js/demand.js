// Demand dashboard charts; every figure is also in the table beside its chart.
(function () {
  if (typeof echarts === "undefined") return;
  var data = JSON.parse(document.getElementById("demand-data").textContent);
  var charts = [];
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var c = echarts.init(el, null, { renderer: "svg" });
    c.setOption(option);
    charts.push(c);
  }
  chart("themes-chart", {
    tooltip: { trigger: "axis" },
    grid: { left: 90, right: 16, top: 10, bottom: 20 },
    xAxis: { type: "value" },
    yAxis: { type: "category", inverse: true, data: data.themes.names },
    series: [{ type: "bar", data: data.themes.counts, itemStyle: { color: "#b3261e" } }]
  });
  chart("trend-chart", {
    tooltip: { trigger: "axis" },
    grid: { left: 40, right: 16, top: 10, bottom: 40 },
    xAxis: { type: "category", data: data.trend.periods },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "line", data: data.trend.counts, smooth: true }]
  });
  var max = Math.max.apply(null, data.heat.cells.map(function (c) { return c[2]; }).concat([1]));
  chart("heat-chart", {
    tooltip: { formatter: function (p) { return data.heat.estates[p.value[1]] + " · " + data.heat.themes[p.value[0]] + "：每百户 " + p.value[2]; } },
    grid: { left: 110, right: 16, top: 10, bottom: 70 },
    xAxis: { type: "category", data: data.heat.themes, axisLabel: { rotate: 45 } },
    yAxis: { type: "category", data: data.heat.estates },
    visualMap: { min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0, show: false },
    series: [{ type: "heatmap", data: data.heat.cells }]
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
