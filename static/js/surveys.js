// Surveys: result charts (every figure is also in the table beside its chart) and print buttons.
(function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var source = document.getElementById("survey-charts");
  if (!source || typeof echarts === "undefined") return;
  var specs = JSON.parse(source.textContent);
  var charts = [];
  specs.forEach(function (spec) {
    var el = document.getElementById(spec.id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: "svg" });
    var option;
    if (spec.groups.length <= 1) {
      // One building: the option counts as plain bars.
      option = {
        tooltip: { trigger: "axis" },
        grid: { left: 110, right: 24, top: 10, bottom: 24 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", inverse: true, data: spec.labels, axisLabel: { width: 100, overflow: "truncate" } },
        series: [{ type: "bar", data: spec.totals, itemStyle: { color: "#b3261e" }, label: { show: true, position: "right" } }]
      };
    } else {
      // Several buildings or units: one stacked bar each, a segment per option.
      option = {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { type: "scroll", top: 0 },
        grid: { left: 90, right: 16, top: 36, bottom: 24 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", inverse: true, data: spec.groups, axisLabel: { width: 80, overflow: "truncate" } },
        series: spec.series.map(function (s) { return { name: s.name, type: "bar", stack: "all", data: s.data }; })
      };
    }
    el.classList.toggle("tall", Math.max(spec.groups.length, spec.labels.length) > 8);
    chart.setOption(option);
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
