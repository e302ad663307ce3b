"use strict";
(function () {
  const P = JSON.parse(document.getElementById("payload").textContent);
  const COLORS = ["#3559c7", "#e8833a", "#2ca58d", "#c23b5a", "#8e6bbf", "#6b7a8f", "#d4b12f", "#4fa3d9"];
  const CLASS_COLORS = { uncached: "#c23b5a", read: "#2ca58d", write: "#e8833a", output: "#3559c7" };
  const CFG = { displaylogo: false, responsive: true, displayModeBar: false };
  const BASE = { margin: { l: 64, r: 16, t: 10, b: 48 }, font: { family: "system-ui, sans-serif", size: 12 },
    legend: { orientation: "h", y: -0.18 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff", hovermode: "closest" };

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const usd = (v, lb) => v === null || v === undefined ? "unknown" :
    (lb ? "\u2265" : "") + "$" + (Math.abs(v) < 1 ? v.toFixed(4) : v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
  const tok = v => v === null || v === undefined ? "?" : Number(v).toLocaleString("en-US");
  const pct = v => v === null || v === undefined ? "n/a" : (v * 100).toFixed(1) + "%";
  const secs = v => v === null || v === undefined ? "n/a" : v < 1 ? (v * 1000).toFixed(0) + " ms" : v < 120 ? v.toFixed(1) + " s" : v < 7200 ? (v / 60).toFixed(1) + " min" : (v / 3600).toFixed(1) + " h";
  function plot(id, data, layout) {
    Plotly.newPlot(id, data, Object.assign({}, BASE, layout || {}), CFG);
  }
  // --with-content excerpts in a hover: escaped (plotly reads a little HTML) and wrapped
  function wrapText(t) { const esc = t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    return (esc.match(/.{1,80}(\s|$)|\S+/g) || []).join("<br>"); }
  function excerpt(r) { let out = "";
    if (r.prompt) out += "<br><b>prompt</b>: " + wrapText(r.prompt);
    if (r.response) out += "<br><b>response</b>: " + wrapText(r.response);
    return out; }
  function none(id, text) { document.getElementById(id).replaceChildren(el("p", { class: "none" }, text)); }
  function table(id, head, rows) {
    const t = el("table"), tr = el("tr");
    head.forEach(([h, num]) => tr.appendChild(el("th", num ? { class: "n" } : {}, h)));
    t.appendChild(el("thead")).appendChild(tr);
    const body = t.appendChild(el("tbody"));
    rows.forEach(r => { const row = el("tr"); r.forEach(([v, cls]) => row.appendChild(el("td", cls ? { class: cls } : {}, v))); body.appendChild(row); });
    document.getElementById(id).replaceChildren(t);
  }

  // summary
  const S = P.summary;
  document.getElementById("subtitle").textContent = `${S.tasks} tasks \u00b7 ${tok(S.llm_calls)} llm calls \u00b7 ${tok(S.tool_calls)} tool calls`;
  [["Total cost", usd(S.cost_usd, S.cost_is_lower_bound)], ["Input tokens", tok(S.input_tokens)],
   ["Output tokens", tok(S.output_tokens)], ["Cache hit ratio", pct(S.cache_hit_ratio)],
   ["Cache net savings", usd(S.cache_net_savings_usd)], ["Input share of cost", pct(S.input_cost_share)],
   ["LLM share of time", pct(S.llm_time_share)], ["Wall time", secs(S.wall_time_s)],
   ["Iterations p50", S.iterations_p50 ?? "n/a"], ["Context growth p50", S.context_growth_p50 === null ? "n/a" : S.context_growth_p50 + "x"]]
    .forEach(([k, v]) => { const c = el("div", { class: "card" }); c.appendChild(el("div", { class: "v" }, v)); c.appendChild(el("div", { class: "k" }, k)); document.getElementById("cards").appendChild(c); });
  P.warnings.forEach(w => document.getElementById("warnings").appendChild(el("li", {}, w)));
  if (P.with_content) document.getElementById("warnings").appendChild(el("li", {}, "This page contains prompt and response text (--with-content): share it as you would the traces."));

  // cost over time, stacked by model
  const models = P.models.map(m => m.model);
  const color = m => COLORS[models.indexOf(m) % COLORS.length];
  if (P.daily.length) {
    plot("chart-daily", models.map(m => {
      const pts = P.daily.filter(d => d.model === m);
      return { type: "bar", name: m, x: pts.map(d => d.day), y: pts.map(d => d.cost_usd), marker: { color: color(m) },
        hovertemplate: "%{x}<br>" + m + ": $%{y:.4f}<extra></extra>" };
    }), { barmode: "stack", yaxis: { title: "USD", tickprefix: "$" },
          xaxis: { type: "category", categoryorder: "category ascending",
                   title: P.daily_bucket === "hour" ? "hour (UTC)" : "day (UTC)" } });
  } else none("chart-daily", "No priced llm steps with a start time.");

  // models: cost and tokens by class
  if (P.models.length) {
    // dollars by token class, from pricing's own split; a trace-reported cost has none
    const byc = [["uncached_input", "uncached input", "uncached"], ["cache_read", "cache read", "read"],
      ["cache_write", "cache write", "write"], ["output", "output", "output"]];
    const part = (m, k) => m.cost_by_class_usd ? m.cost_by_class_usd[k] : 0;
    const costTraces = byc.map(([k, name, c]) => ({ type: "bar", orientation: "h", name, y: models,
      x: P.models.map(m => part(m, k)), marker: { color: CLASS_COLORS[c] },
      hovertemplate: "%{y} " + name + ": $%{x:.4f}<extra></extra>" }));
    const rest = P.models.map(m => Math.max(0, (m.cost_usd || 0) - part(m, "priced_usd")));
    if (rest.some(v => v > 1e-9)) costTraces.push({ type: "bar", orientation: "h", name: "reported by the trace (no split)",
      y: models, x: rest, marker: { color: "#9aa5b1" }, hovertemplate: "%{y} reported: $%{x:.4f}<extra></extra>" });
    plot("chart-model-cost", costTraces,
      { barmode: "stack", xaxis: { title: "USD", tickprefix: "$" }, yaxis: { automargin: true } });
    const cls = [["uncached_input_tokens", "uncached input", "uncached"], ["cache_read_tokens", "cache read", "read"],
      ["cache_write_tokens", "cache write", "write"], ["output_tokens", "output", "output"]];
    plot("chart-model-tokens", cls.map(([k, name, c]) => ({ type: "bar", orientation: "h", name, y: models,
      x: P.models.map(m => m[k]), marker: { color: CLASS_COLORS[c] } })),
      { barmode: "stack", xaxis: { title: "tokens" }, yaxis: { automargin: true } });
  } else { none("chart-model-cost", "No llm steps."); none("chart-model-tokens", "No llm steps."); }

  // costliest tasks
  if (P.tasks.length) {
    const ts = P.tasks.slice().reverse();
    plot("chart-tasks", [{ type: "bar", orientation: "h", y: ts.map(t => t.task_id), x: ts.map(t => t.cost_usd),
      marker: { color: "#3559c7" }, hovertemplate: "%{y}: $%{x:.4f}<extra></extra>" }],
      { xaxis: { title: "USD", tickprefix: "$" }, yaxis: { automargin: true, type: "category" }, showlegend: false,
        height: Math.max(260, 28 * ts.length + 80) });
    table("table-tasks", [["task"], ["cost", 1], ["llm calls", 1], ["tool calls", 1], ["input tokens", 1], ["output tokens", 1], ["cache hit", 1], ["context growth", 1], ["wall time", 1]],
      P.tasks.map(t => [[t.task_id, "id"], [usd(t.cost_usd, t.cost_is_lower_bound), "n"], [tok(t.llm_calls), "n"], [tok(t.tool_calls), "n"],
        [tok(t.input_tokens), "n"], [tok(t.output_tokens), "n"], [pct(t.cache_hit_ratio), "n"], [t.context_growth === null ? "n/a" : t.context_growth + "x", "n"], [secs(t.wall_time_s), "n"]]));
    if (P.tasks_total > P.tasks.length) document.getElementById("table-tasks").appendChild(el("p", { class: "none" }, `${P.tasks_total - P.tasks.length} more tasks not shown.`));
  } else none("chart-tasks", "No tasks.");

  // findings
  if (P.findings.length) {
    table("table-findings", [["type"], ["task"], ["finding"], ["$ at stake", 1], ["s at stake", 1]],
      P.findings.map(f => [[f.type], [f.task_id, "id"], [f.message], [f.usd_at_stake === null ? "" : usd(f.usd_at_stake), "n"], [f.seconds_at_stake === null ? "" : secs(f.seconds_at_stake), "n"]]));
    if (P.findings_total > P.findings.length) document.getElementById("table-findings").appendChild(el("p", { class: "none" }, `${P.findings_total - P.findings.length} more findings not shown (analyze --format json lists all).`));
  } else none("table-findings", "No findings.");

  // simulation
  if (P.simulation) {
    const rows = [P.simulation.baseline, ...P.simulation.scenarios];
    plot("chart-sim", [{ type: "bar", x: rows.map(r => r.name), y: rows.map(r => r.cost_usd),
      marker: { color: rows.map((r, i) => i === 0 ? "#6b7a8f" : "#2ca58d") }, hovertemplate: "%{x}: $%{y:.4f}<extra></extra>" }],
      { yaxis: { title: "USD", tickprefix: "$" }, xaxis: { type: "category", automargin: true }, showlegend: false });
    table("table-sim", [["scenario"], ["cost", 1], ["vs. baseline", 1], ["cache hit", 1], ["latency p95", 1], ["assumptions"]],
      rows.map(r => [[r.name], [usd(r.cost_usd, r.cost_is_lower_bound), "n"], [r.delta_pct === null ? "" : (r.delta_pct > 0 ? "+" : "") + r.delta_pct.toFixed(1) + "%", "n"],
        [pct(r.cache_hit_ratio), "n"], [secs(r.latency_p95_s), "n"], [r.assumptions.join(" ")]]));
  } else document.getElementById("sim-section").remove();

  // per task: input tokens by class with context growth, and the timeline
  const host = document.getElementById("task-detail");
  P.task_detail.forEach((t, i) => {
    host.appendChild(el("h3", {}, t.task_id));
    const a = el("div", { id: "chart-steps-" + i, class: "chart" }), b = el("div", { id: "chart-gantt-" + i, class: "chart" });
    host.appendChild(a); host.appendChild(b);
    const s = t.input_series, lab = s.bin_size > 1 ? `llm step (mean of ${s.bin_size})` : "llm step";
    plot(a.id, [
      { type: "bar", name: "cache read", x: s.step, y: s.cache_read_tokens, marker: { color: CLASS_COLORS.read } },
      { type: "bar", name: "cache write", x: s.step, y: s.cache_write_tokens, marker: { color: CLASS_COLORS.write } },
      { type: "bar", name: "uncached", x: s.step, y: s.uncached_input_tokens, marker: { color: CLASS_COLORS.uncached } },
      { type: "scatter", mode: "lines+markers", name: "context (input tokens)", x: s.step, y: s.input_tokens, line: { color: "#1f2933", width: 2 } },
    ], { barmode: "stack", xaxis: { title: lab, type: "category" }, yaxis: { title: "input tokens" } });
    const seq = new Set(t.sequential_tool_steps);
    let turn = null;
    const rows = t.timeline.map(r => { if (r.kind === "llm") turn = r.step; return r; });
    const lane = r => r.kind === "llm" ? "llm" : "tool";
    const bars = (kind, name, col) => {
      let llmStep = null;
      const pts = rows.filter(r => { if (r.kind === "llm") llmStep = r.step; r._turn = llmStep; return lane(r) === kind; });
      return { type: "bar", orientation: "h", name, base: pts.map(r => r.started_at), x: pts.map(r => r.duration_ms),
        y: pts.map(r => kind === "llm" ? "llm" : (seq.has(r._turn) ? "tool (sequential)" : "tool")),
        text: pts.map(r => `step ${r.step} ${r.name ?? ""}` + excerpt(r)), textposition: "none", hovertemplate: "%{text}<br>%{x:.0f} ms<extra></extra>",
        marker: { color: pts.map(r => r.is_error ? "#c23b5a" : col) } };
    };
    const waits = { type: "bar", orientation: "h", name: "wait (nothing running)", base: t.waits.map(w => w.from),
      x: t.waits.map(w => w.seconds * 1000), y: t.waits.map(() => "wait"), text: t.waits.map(w => `before step ${w.before_step}: ${secs(w.seconds)}`),
      textposition: "none", hovertemplate: "%{text}<extra></extra>", marker: { color: "#b8c0cc" } };
    plot(b.id, [bars("llm", "llm call", "#3559c7"), bars("tool", "tool call", "#e8833a"), waits],
      { barmode: "overlay", xaxis: { type: "date", title: "time (UTC)" }, yaxis: { type: "category", automargin: true,
        categoryorder: "array", categoryarray: ["wait", "tool (sequential)", "tool", "llm"] }, height: 260 });
    if (t.timeline_truncated) host.appendChild(el("p", { class: "none" }, `${t.timeline_truncated} later steps not drawn.`));
  });
  if (!P.task_detail.length) host.appendChild(el("p", { class: "none" }, "No tasks."));
  document.body.setAttribute("data-rendered", "1");
})();
