/* Bantico reports: draws the charts with the vendored uPlot from each chart's data-chart
   attribute (JSON written by the server; no inline scripts, the CSP forbids them). Without
   JavaScript the page still has every number in its tables. */
(function () {
  "use strict";

  var INK = "#59636e";
  var GRID = "#eaeef2";
  var BLUE = "#0b5cad";
  var VIOLET = "#8250df";
  var CURRENCY_COLOURS = [BLUE, "#1a7f37", "#bf3989", "#9a6700"];
  var charts = [];

  function readData(element) {
    try {
      return JSON.parse(element.getAttribute("data-chart"));
    } catch (error) {
      return null;
    }
  }

  function axis(extra) {
    var base = { stroke: INK, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } };
    for (var key in extra) base[key] = extra[key];
    return base;
  }

  function upTo(max) {
    return [0, max > 0 ? max * 1.1 : 1];
  }

  function compact(value) {
    if (value == null) return "—";
    if (Math.abs(value) >= 1e6) return (value / 1e6).toFixed(1).replace(/\.0$/, "") + "M";
    if (Math.abs(value) >= 1e4) return (value / 1e3).toFixed(1).replace(/\.0$/, "") + "k";
    return String(Math.round(value * 100) / 100);
  }

  function revenueChart(element, data) {
    var x = data.x;
    var step = x.length > 1 ? x[1] - x[0] : 86400;
    var single = data.net.length === 1;
    var series = [{ label: data.interval === "day" ? "Day" : data.interval === "week" ? "Week of" : "Month" }];
    var axes = [axis({ grid: { show: false } })];
    var columns = [x];
    data.net.forEach(function (currency, index) {
      var colour = CURRENCY_COLOURS[index % CURRENCY_COLOURS.length];
      series.push({
        label: "Net revenue (" + currency.currency + ")",
        scale: "money",
        stroke: colour,
        fill: single ? "rgba(11, 92, 173, 0.55)" : undefined,
        width: single ? 0 : 2,
        paths: single ? uPlot.paths.bars({ size: [0.7, 48] }) : undefined,
        points: { show: !single },
        value: function (u, v) { return v == null ? "—" : v.toFixed(2) + " " + currency.currency; }
      });
      columns.push(currency.values);
    });
    if (data.previous) {
      // The previous period of the same length, bucket for bucket: a faint line to compare with.
      series.push({
        label: "Previous period (" + data.previous.currency + ")",
        scale: "money",
        stroke: "rgba(89, 99, 110, 0.55)",
        width: 1.5,
        dash: [2, 3],
        points: { show: false },
        value: function (u, v) { return v == null ? "—" : v.toFixed(2) + " " + data.previous.currency; }
      });
      columns.push(data.previous.values);
    }
    axes.push(axis({ scale: "money", label: "Net revenue" + (single ? " (" + data.net[0].currency + ")" : ""), values: function (u, splits) { return splits.map(compact); } }));
    series.push({
      label: "Clicks",
      scale: "clicks",
      stroke: VIOLET,
      width: 2,
      dash: [6, 4],
      points: { show: true, size: 5, fill: VIOLET },
      value: function (u, v) { return v == null ? "—" : String(v); }
    });
    columns.push(data.clicks);
    axes.push(axis({ scale: "clicks", side: 1, label: "Clicks", grid: { show: false }, values: function (u, splits) { return splits.map(compact); } }));

    var moneyMax = 0;
    data.net.forEach(function (c) { c.values.forEach(function (v) { moneyMax = Math.max(moneyMax, v); }); });
    if (data.previous) data.previous.values.forEach(function (v) { moneyMax = Math.max(moneyMax, v || 0); });
    var clickMax = Math.max.apply(null, [0].concat(data.clicks));
    return new uPlot({
      width: width(element),
      height: 300,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: {
        x: { time: true, range: function () { return [x[0] - step / 2, x[x.length - 1] + step / 2]; } },
        money: { range: function () { return upTo(moneyMax); } },
        clicks: { range: function () { return upTo(clickMax); } }
      },
      series: series,
      axes: axes,
      cursor: { drag: { x: false, y: false } }
    }, columns, element);
  }

  function funnelChart(element, data) {
    var indexes = data.labels.map(function (_, i) { return i; });
    var max = Math.max.apply(null, [0].concat(data.visitors));
    return new uPlot({
      width: width(element),
      height: 260,
      legend: { show: false },
      scales: {
        x: { time: false, range: [-0.5, indexes.length - 0.5] },
        y: { range: function () { return upTo(max); } }
      },
      series: [
        { label: "Step" },
        {
          label: "Visitors",
          stroke: BLUE,
          fill: "rgba(11, 92, 173, 0.55)",
          width: 0,
          paths: uPlot.paths.bars({ size: [0.6, 90] }),
          points: { show: false }
        }
      ],
      axes: [
        // Too narrow for the names: the steps' numbers, as in the table below the chart.
        axis({ grid: { show: false }, splits: function () { return indexes; }, values: function (u) { return u.width < 640 ? indexes.map(function (i) { return String(i + 1); }) : data.labels; } }),
        axis({ label: "Visitors", values: function (u, splits) { return splits.map(compact); } })
      ],
      cursor: { drag: { x: false, y: false }, points: { show: false } }
    }, [indexes, data.visitors], element);
  }

  function width(element) {
    return Math.max(280, element.clientWidth);
  }

  function draw() {
    if (typeof uPlot === "undefined") return;
    var kinds = { "revenue-chart": revenueChart, "funnel-chart": funnelChart };
    Object.keys(kinds).forEach(function (id) {
      var element = document.getElementById(id);
      var data = element && readData(element);
      if (!data) return;
      var fallback = element.querySelector(".chart-fallback");
      if (fallback) fallback.remove();
      charts.push({ element: element, chart: kinds[id](element, data) });
    });
  }

  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      charts.forEach(function (item) {
        item.chart.setSize({ width: width(item.element), height: item.chart.height });
      });
    }, 150);
  });

  // Editing a date means custom dates: pick that choice so the form does what was meant.
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-custom-date]")) return;
    var range = document.getElementById("r-range");
    if (range) range.value = "custom";
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
