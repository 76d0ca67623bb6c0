// 三率 bar chart; the same figures are in the table beside it.
(function () {
  var el = document.getElementById("kpi-chart");
  var data = JSON.parse(document.getElementById("kpi-data").textContent);
  if (!el || typeof echarts === "undefined") return;
  var chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; } },
    legend: { top: 0 },
    grid: { left: 40, right: 10, bottom: 30, top: 40 },
    xAxis: { type: "category", data: data.streets },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: data.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
