// Report charts with Apache ECharts (vendored at /static/vendor/echarts.min.js).
// Each chart is a <div data-chart="kind" data-source="json-script-id">; the figures come from the
// same JSON the API returns, embedded in the page with json_script. SVG renderer: crisp in print.
(function () {
  "use strict";

  var STAGE_COLORS = { "-1": "#9ca3af", "0": "#7b8ba3", "1": "#38a8dd", "2": "#6d6df0", "3": "#e49b1b", "4": "#ec6a2c", "5": "#2f9e55" };
  var PALETTE = ["#1d5bd8", "#2f9e55", "#e49b1b", "#d9363e", "#6d6df0", "#38a8dd", "#7b8ba3", "#ec6a2c"];
  var T = {};

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function pct(v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; }
  function t(key) { return T[key] || key; }

  function base() {
    return {
      color: PALETTE,
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", confine: true },
      legend: { top: 0, type: "scroll" },
      animation: false
    };
  }

  function barByStage(rows, value, name, unit) {
    var opt = base();
    opt.legend = { show: false };
    var longest = Math.max.apply(null, rows.map(function (r) { return String(r.label).length; }));
    opt.xAxis = { type: "category", data: rows.map(function (r) { return r.label; }), axisLabel: { interval: 0, rotate: rows.length * longest > 36 ? 30 : 0 } };
    opt.yAxis = { type: "value", name: unit || "", minInterval: unit === "%" ? 0 : 1, max: unit === "%" ? 100 : null };
    opt.series = [{
      type: "bar", name: name,
      data: rows.map(function (r) { return { value: value(r), itemStyle: { color: STAGE_COLORS[String(r.stage)] || PALETTE[0] } }; }),
      label: { show: true, position: "top", formatter: function (p) { return p.value === null ? "–" : p.value + (unit === "%" ? "%" : ""); } }
    }];
    return opt;
  }

  var BUILDERS = {
    funnel: function (d) {
      return barByStage(d.total.stages, function (s) { return s.count; }, t("Customers"));
    },
    bands: function (d) {
      var opt = base();
      var bands = d.total.bands;
      opt.xAxis = { type: "category", data: bands.map(function (b) { return b.label; }) };
      opt.yAxis = { type: "value", minInterval: 1 };
      opt.series = [
        { type: "bar", name: t("Customers"), data: bands.map(function (b) {
            return { value: b.count, itemStyle: { color: b.status === "ok" ? "#2f9e55" : (b.status === "low" ? "#e49b1b" : "#d9363e") } };
          }), label: { show: true, position: "top" } },
        { type: "bar", name: t("Target"), data: bands.map(function (b) { return b.target; }), itemStyle: { color: "#cfd6e1" }, label: { show: true, position: "top" } }
      ];
      return opt;
    },
    conversion: function (d) {
      return barByStage(d.conversions.map(function (c) { return { stage: c.stage + 1, label: c.label + " → " + c.next_label, rate: c.rate }; }),
        function (r) { return pct(r.rate); }, t("Rate"), "%");
    },
    durations: function (d) {
      return barByStage(d.durations, function (r) { return r.median_days; }, t("Days"), t("days"));
    },
    winrates: function (d) {
      return barByStage(d.win_rates.stages, function (r) { return pct(r.probability); }, t("Win rate"), "%");
    },
    calls: function (d) {
      var opt = base();
      var labels = d.periods.map(function (p) { return p.start.slice(5); });
      var sum = function (key) {
        return d.periods.map(function (_p, i) {
          return d.reps.reduce(function (acc, r) { return acc + ((r.points[i] || {})[key] || 0); }, 0);
        });
      };
      opt.xAxis = { type: "category", data: labels };
      opt.yAxis = { type: "value", minInterval: 1 };
      opt.series = [
        { type: "bar", name: t("Follow-ups"), data: sum("follow_ups"), itemStyle: { color: "#cfd6e1" } },
        { type: "line", name: t("Effective"), data: sum("effective"), smooth: true, symbolSize: 7 }
      ];
      d.reps.forEach(function (r) {
        if (d.reps.length > 1 && d.reps.length <= 8) {
          opt.series.push({ type: "line", name: r.name, data: r.points.map(function (p) { return p.effective; }), lineStyle: { type: "dashed", width: 1 }, symbolSize: 4 });
        }
      });
      return opt;
    },
    accuracy: function (d) {
      var opt = base();
      opt.xAxis = { type: "category", data: d.periods.map(function (p) { return p.start.slice(5); }) };
      opt.yAxis = { type: "value", max: 100, name: "%" };
      opt.series = [];
      function ratio(part, whole) { return whole ? Math.round(1000 * part / whole) / 10 : null; }
      // Per rep for a few reps; for a bigger group, the group's own accuracy (sums over its reps).
      var groups = d.reps.length <= 3 ? d.reps.map(function (r) { return { name: r.name + " · ", reps: [r] }; })
        : [{ name: "", reps: d.reps }];
      groups.forEach(function (g) {
        function total(i, key) { return g.reps.reduce(function (acc, r) { return acc + ((r.points[i] || {})[key] || 0); }, 0); }
        opt.series.push({ type: "line", name: g.name + t("Accuracy"), connectNulls: true, symbolSize: 7,
          data: d.periods.map(function (_p, i) { return ratio(total(i, "hot_right"), total(i, "hot_judgments") - total(i, "hot_pending")); }) });
        opt.series.push({ type: "line", name: g.name + t("Rises taken back"), connectNulls: true, symbolSize: 5, lineStyle: { type: "dotted" },
          data: d.periods.map(function (_p, i) { return ratio(total(i, "reversed"), total(i, "judgments")); }) });
      });
      return opt;
    },
    tiers: function (d) {
      var opt = base();
      opt.tooltip = { trigger: "item", formatter: "{b}: {c} ({d}%)" };
      opt.series = [{ type: "pie", radius: ["40%", "70%"], top: 24, label: { formatter: "{b}\n{c}" },
        data: d.tiers.filter(function (x) { return x.count > 0; }).map(function (x) { return { name: x.label, value: x.count }; }) }];
      opt.color = ["#1d5bd8", "#38a8dd", "#7b8ba3", "#cfd6e1", "#e3e8ef"];
      return opt;
    },
    pareto: function (d) {
      var opt = base();
      opt.legend = { show: false };
      opt.tooltip = { trigger: "axis", formatter: function (ps) { var p = ps[0]; return t("Share of customers") + " " + p.value[0] + "%<br>" + t("Share of revenue") + " " + p.value[1] + "%"; } };
      opt.xAxis = { type: "value", min: 0, max: 100, name: t("Share of customers") + " %", nameLocation: "middle", nameGap: 24 };
      opt.yAxis = { type: "value", min: 0, max: 100, name: "%" };
      opt.grid.bottom = 28;
      var top = d.pareto.top_percent;
      opt.series = [{ type: "line", data: d.pareto.curve, areaStyle: { opacity: 0.12 }, symbolSize: 4, smooth: false,
        markLine: { symbol: "none", silent: true, lineStyle: { type: "dashed", color: "#d9363e" }, label: { formatter: top + "%" }, data: [{ xAxis: top }] } }];
      return opt;
    },
    loyalty: function (d) {
      var opt = base();
      opt.legend = { show: false };
      var rows = d.loyalty.slice().reverse();
      opt.yAxis = { type: "category", data: rows.map(function (x) { return x.label; }) };
      opt.xAxis = { type: "value", minInterval: 1 };
      var colors = { loyal: "#2f9e55", very_satisfied: "#56b870", satisfied: "#8fd19e", indifferent: "#cfd6e1", unhappy: "#f0b56b", wronged: "#ec8a4c", angry: "#d9363e", complaining: "#a61e24", "": "#e3e8ef" };
      opt.series = [{ type: "bar", data: rows.map(function (x) { return { value: x.count, itemStyle: { color: colors[x.level] || "#7b8ba3" } }; }), label: { show: true, position: "right" } }];
      return opt;
    },
    costs: function (d) {
      var opt = base();
      opt.xAxis = { type: "category", data: d.costs.map(function (c) { return c.tier; }) };
      opt.yAxis = { type: "value", name: "¥" };
      opt.series = ["messages", "calls", "gifts"].map(function (key) {
        return { type: "bar", stack: "cost", name: t(key), data: d.costs.map(function (c) { return c[key]; }) };
      });
      return opt;
    },
    "incentive-regions": function (d) {
      var opt = base();
      opt.xAxis = { type: "category", data: d.months.map(function (m) { return m.slice(0, 7); }) };
      opt.yAxis = { type: "value", name: "¥" };
      opt.series = d.regions.map(function (r) { return { type: "bar", name: r.region, data: r.totals, label: { show: d.months.length <= 6, position: "top" } }; });
      return opt;
    },
    fund: function (d) {
      var opt = base();
      opt.legend = { show: false };
      opt.xAxis = { type: "category", data: (d.fund || []).map(function (f) { return f.month.slice(0, 7); }) };
      opt.yAxis = { type: "value", name: "¥" };
      opt.series = [{ type: "line", name: t("Penalty fund"), areaStyle: { opacity: 0.12 }, data: (d.fund || []).map(function (f) { return f.fund_after; }) }];
      return opt;
    }
  };

  // Whether a chart option has any non-zero figure to draw.
  function hasData(opt) {
    return (opt.series || []).some(function (s) {
      return (s.data || []).some(function (v) {
        var x = v && typeof v === "object" && !Array.isArray(v) ? v.value : (Array.isArray(v) ? v[1] : v);
        return x !== null && x !== undefined && x !== 0;
      });
    });
  }

  var charts = [];
  function render(el) {
    var build = BUILDERS[el.getAttribute("data-chart")];
    var data = readJSON(el.getAttribute("data-source"));
    if (!build || !data || typeof echarts === "undefined") return;
    var chart = echarts.init(el, null, { renderer: "svg" });
    var opt = build(data);
    (opt.series || []).forEach(function (s) { if (s.type === "bar" && !s.barMaxWidth) s.barMaxWidth = 56; });
    if (!hasData(opt)) {
      opt.title = { text: t("No figures in this period"), left: "center", top: "middle", textStyle: { color: "#667085", fontWeight: "normal", fontSize: 14 } };
    }
    chart.setOption(opt);
    el.setAttribute("data-rendered", "true");
    charts.push(chart);
  }

  document.addEventListener("DOMContentLoaded", function () {
    T = readJSON("report-i18n") || {};
    document.querySelectorAll("[data-chart]").forEach(render);
    var pending;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
    });
    // Print at the page's width so the charts fit the sheet.
    window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
    document.querySelectorAll("[data-print]").forEach(function (b) { b.addEventListener("click", function () { window.print(); }); });
  });
})();
