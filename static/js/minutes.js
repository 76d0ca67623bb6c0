// Meetings: the split editor remembers where the caret is (for 拆分), and the theme chart
// (its figures are also in the table beside it).
(function () {
  // Caret position in code points, as the server counts characters ("\r\n" is sent for "\n": the
  // server turns it back, so a newline counts once here too).
  function remember(textarea) {
    var row = textarea.closest(".point-row");
    var hidden = row && row.querySelector("input.cursor");
    if (!hidden) return;
    var end = textarea.selectionStart;
    hidden.value = end == null ? "" : String(Array.from(textarea.value.slice(0, end)).length);
  }
  document.querySelectorAll(".point-row textarea").forEach(function (textarea) {
    ["keyup", "click", "select", "input", "focus"].forEach(function (name) {
      textarea.addEventListener(name, function () { remember(textarea); });
    });
  });

  var data = document.getElementById("minutes-data");
  var el = document.getElementById("themes-chart");
  if (!data || !el || typeof echarts === "undefined") return;
  data = JSON.parse(data.textContent);
  var chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    tooltip: { trigger: "axis" },
    grid: { left: 100, right: 16, top: 10, bottom: 20 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: data.names },
    series: [{ type: "bar", data: data.counts, itemStyle: { color: "#b3261e" } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
