// Demand dashboard charts; every figure is also in the table beside its chart. The brief's print button.
(function () {
  var printButton = document.getElementById("print-brief");
  if (printButton) printButton.addEventListener("click", function () { window.print(); });
  var dataEl = document.getElementById("demand-data");
  if (typeof echarts === "undefined" || !dataEl) return;
  var data = JSON.parse(dataEl.textContent);
  var narrow = window.innerWidth < 600;
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
    grid: { left: 8, right: 16, top: 10, bottom: 20, containLabel: true },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: data.themes.names },
    series: [{ type: "bar", data: data.themes.counts, itemStyle: { color: "#b3261e" } }]
  });
  chart("trend-chart", {
    tooltip: { trigger: "axis" },
    grid: { left: 8, right: 16, top: 10, bottom: 10, containLabel: true },
    xAxis: { type: "category", data: data.trend.periods },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "line", data: data.trend.counts, smooth: true, itemStyle: { color: "#b3261e" } }]
  });
  var max = Math.max.apply(null, data.heat.cells.map(function (c) { return c[2]; }).concat([1]));
  chart("heat-chart", {
    tooltip: { formatter: function (p) { return data.heat.estates[p.value[1]] + " · " + data.heat.themes[p.value[0]] + "：每百户 " + p.value[2]; } },
    grid: { left: 8, right: 16, top: 10, bottom: 10, containLabel: true },
    xAxis: { type: "category", data: data.heat.themes, axisLabel: { rotate: 45, fontSize: narrow ? 10 : 12 } },
    yAxis: { type: "category", data: data.heat.estates, inverse: true, axisLabel: { fontSize: narrow ? 10 : 12 } },
    visualMap: { min: 0, max: max, calculable: true, show: false, inRange: { color: ["#fdecea", "#b3261e"] } },
    series: [{ type: "heatmap", data: data.heat.cells }]
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
