/* The report site's pages: data from the JSON API, drawn with the DOM, SVG and plotly.js
   (served by the site itself). Text from the experiment is always inserted as text. */
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const STATUS = ["pending", "running", "success", "failure", "reduced", "reused", "interrupted"];
  const COLORS = {pending: "#9aa0a6", running: "#1a73e8", success: "#188038", failure: "#d93025",
                  reduced: "#f9ab00", reused: "#8e24aa", interrupted: "#e8710a", waiting: "#9aa0a6"};
  const body = document.body;
  const page = body.dataset.page;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function api(path) {
    return fetch(path, {credentials: "same-origin", cache: "no-store"}).then(function (r) {
      if (!r.ok) throw new Error(path + ": " + r.status);
      return r.json();
    });
  }
  function enc(s) { return encodeURIComponent(s); }
  function fmtTime(t) { return t ? new Date(t * 1000).toLocaleString() : "—"; }
  function fmtDur(s) {
    if (s === null || s === undefined) return "—";
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") + sec + "s";
  }
  function fmtNum(x) {
    if (x === null || x === undefined) return "—";
    if (typeof x !== "number") return String(x);
    return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : String(+x.toFixed(5));
  }
  function badge(status) { return el("span", {"class": "badge " + (status || "pending"), text: status || "pending"}); }
  function setLive(text) { const live = document.getElementById("live"); if (live) live.textContent = text; }
  function facts(pairs) {
    const dl = el("dl", {"class": "facts"});
    for (const [k, v] of pairs) { if (v === null || v === undefined) continue; dl.appendChild(el("dt", {text: k})); dl.appendChild(el("dd", {}, [v])); }
    return dl;
  }
  function isLive(status) { return status === "running" || status === "waiting" || status === null || status === undefined; }
  function poll(fn, ms) {
    let stopped = false;
    function tick() {
      fn().then(function (again) { if (again && !stopped) setTimeout(tick, ms); })
          .catch(function () { if (!stopped) setTimeout(tick, ms * 2); });
    }
    tick();
    return function () { stopped = true; };
  }
  function highlight(pre, text) {
    for (const line of text.split(/(?<=\n)/)) {
      let cls = null;
      if (/Traceback|ERROR|Error:|Exception|failed|FAILED|failure/.test(line)) cls = "fail";
      else if (/WARNING|Warning/.test(line)) cls = "warn";
      pre.appendChild(cls ? el("span", {"class": cls, text: line}) : document.createTextNode(line));
    }
  }
  function follow(url, pre) {
    const atBottom = function () { return pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20; };
    const source = new EventSource(url);
    source.onmessage = function (e) {
      const stick = atBottom();
      highlight(pre, JSON.parse(e.data).text);
      if (stick) pre.scrollTop = pre.scrollHeight;
    };
    source.addEventListener("end", function () { source.close(); pre.dataset.ended = "1"; });
    source.onerror = function () { if (pre.dataset.ended) source.close(); };
    return source;
  }

  /* ---------- overview ---------- */
  const expanded = new Set();
  let lastExperiment = null;

  function countsLine(c) {
    const parts = STATUS.filter(function (k) { return c[k]; }).map(function (k) { return c[k] + " " + k; });
    return parts.join(" · ") || "no variant yet";
  }
  function clip(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }
  function drawDag(exp, stageData) {
    const root = document.getElementById("dag");
    const dag = exp.dag;
    while (root.firstChild) root.removeChild(root.firstChild);
    const defs = svg("defs");
    const marker = svg("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse"});
    marker.appendChild(svg("path", {d: "M 0 0 L 10 5 L 0 10 z", fill: "#5f6368"}));
    defs.appendChild(marker); root.appendChild(defs);
    const byName = {};
    for (const s of exp.stages) byName[s.name] = s;
    let height = dag.height, width = dag.width;
    for (const [a, b] of dag.edges) {
      const na = dag.nodes[a], nb = dag.nodes[b];
      if (!na || !nb) continue;
      const x1 = na.x + na.width, y1 = na.y + na.height / 2, x2 = nb.x, y2 = nb.y + nb.height / 2;
      const mx = (x1 + x2) / 2;
      root.appendChild(svg("path", {"class": "edge", d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`, "data-from": a, "data-to": b}));
    }
    const variantPos = {};
    for (const s of exp.stages) {
      const n = dag.nodes[s.name];
      const g = svg("g", {"class": "stage-node", "data-stage": s.name, "data-status": s.status, transform: `translate(${n.x},${n.y})`});
      g.appendChild(svg("rect", {"class": "box", width: n.width, height: n.height, rx: 8, stroke: COLORS[s.status] || "#9aa0a6"}));
      g.appendChild(svg("rect", {width: 8, height: n.height, rx: 3, fill: COLORS[s.status] || "#9aa0a6"}));
      const link = svg("a", {href: "/stages/" + enc(s.name)});
      link.appendChild(svg("text", {"class": "title", x: 16, y: 20}, s.name));
      g.appendChild(link);
      g.appendChild(svg("text", {"class": "status", x: 16, y: 38}, s.status + " · " + s.total + " variant" + (s.total === 1 ? "" : "s")));
      g.appendChild(svg("text", {"class": "counts", x: 16, y: 56}, countsLine(s.counts)));
      g.appendChild(svg("text", {"class": "elapsed", x: 16, y: 74}, "time " + fmtDur(s.elapsed) + (s.reduce ? " · reduce keeps " + s.reduce : "")));
      g.appendChild(svg("text", {x: n.width - 18, y: 20}, expanded.has(s.name) ? "▾" : "▸"));
      g.addEventListener("click", function (e) {
        if (e.target.closest("a")) return;
        if (expanded.has(s.name)) expanded.delete(s.name); else expanded.add(s.name);
        refreshOverview();
      });
      root.appendChild(g);
      const data = stageData[s.name];
      if (!data) continue;
      data.rows.forEach(function (v, i) {
        const x = n.x + 6, y = dag.height + i * 34;
        variantPos[v.id] = {x: x, y: y, w: n.width - 12};
        const kept = data.reduce && (v.status === "success" || v.status === "reused");
        const vg = svg("g", {"class": "variant-node" + (kept ? " kept" : ""), "data-variant": v.id, "data-status": v.status, transform: `translate(${x},${y})`});
        vg.appendChild(svg("rect", {width: n.width - 12, height: 26, rx: 5, stroke: COLORS[v.status] || "#9aa0a6"}));
        const a = svg("a", {href: "/variants/" + enc(v.id)});
        a.appendChild(svg("text", {x: 6, y: 17, "class": "variant-label"}, clip((kept ? "★ " : "") + v.name, 22) + "  " + fmtNum(v.last_metric)));
        vg.appendChild(a);
        vg.appendChild(svg("title", {}, v.name + ": " + v.status + (v.reason ? " (" + v.reason + ")" : "")));
        root.appendChild(vg);
        height = Math.max(height, y + 40);
      });
      if (data.matching > data.rows.length) {
        root.appendChild(svg("text", {x: n.x + 6, y: dag.height + data.rows.length * 34 + 16}, "… " + (data.matching - data.rows.length) + " more on the stage page"));
        height = Math.max(height, dag.height + data.rows.length * 34 + 30);
      }
    }
    for (const name of Object.keys(stageData)) {
      for (const v of stageData[name].rows) {
        const p = variantPos[v.id];
        for (const [upStage, upId] of Object.entries(v.lineage || {})) {
          let q = variantPos[upId];
          let target = q ? {x: q.x + q.w, y: q.y + 13} : null;
          if (!target && dag.nodes[upStage] && dag.edges.some(function (e) { return e[0] === upStage && e[1] === name; })) {
            const u = dag.nodes[upStage]; target = {x: u.x + u.width / 2, y: u.y + u.height};
          }
          if (!target) continue;
          root.appendChild(svg("path", {"class": "lineage", d: `M ${target.x} ${target.y} L ${p.x} ${p.y + 13}`, "data-from": upId, "data-to": v.id}));
        }
      }
    }
    root.setAttribute("width", width); root.setAttribute("height", height);
    root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  }
  function drawHeader(exp) {
    const head = document.getElementById("header");
    while (head.firstChild) head.removeChild(head.firstChild);
    const title = el("h1", {}, [el("span", {id: "experiment-name", text: exp.name || "waiting for the experiment"}), " ", badge(exp.status)]);
    title.querySelector(".badge").id = "experiment-status";
    head.appendChild(title);
    if (exp.message) head.appendChild(el("p", {"class": "muted", text: exp.message}));
    if (exp.hosts && exp.hosts > 0) head.appendChild(el("p", {id: "remote", text: "Running remotely on " + exp.hosts + " host" + (exp.hosts === 1 ? "" : "s")}));
    head.appendChild(facts([
      ["Seed", exp.seed === undefined ? null : String(exp.seed)],
      ["Config fingerprint", exp.fingerprint || null],
      ["Started", fmtTime(exp.started)], ["Finished", exp.finished ? fmtTime(exp.finished) : (exp.status === "running" ? "running…" : "—")],
      ["Total time", fmtDur(exp.elapsed)], ["Output", exp.output_folder],
      ["Variants", String(exp.total_variants || 0)],
    ]));
    const times = document.getElementById("stage-times");
    while (times.firstChild) times.removeChild(times.firstChild);
    times.appendChild(el("h2", {text: "Stages"}));
    const table = el("table", {id: "stages"});
    table.appendChild(el("tr", {}, ["Stage", "Status", "Variants"].concat(STATUS).concat(["Time", "TensorBoard"]).map(function (h) { return el("th", {text: h}); })));
    for (const s of exp.stages) {
      const tbUrl = exp.tensorboard && exp.tensorboard.stages ? exp.tensorboard.stages[s.name] : null;
      table.appendChild(el("tr", {"data-stage": s.name}, [
        el("td", {}, [el("a", {href: "/stages/" + enc(s.name), text: s.name})]), el("td", {}, [badge(s.status)]),
        el("td", {text: String(s.total)})].concat(STATUS.map(function (k) { return el("td", {text: String(s.counts[k] || 0)}); }))
        .concat([el("td", {text: fmtDur(s.elapsed)}), el("td", {}, [tbUrl ? el("a", {href: tbUrl, text: "open"}) : "—"])])));
    }
    times.appendChild(table);
    const legend = document.getElementById("legend");
    if (!legend.firstChild) for (const k of STATUS) legend.appendChild(el("span", {}, [el("i", {style: "background:" + COLORS[k]}), k]));
  }
  function drawTensorboard(exp) {
    const box = document.getElementById("tensorboard");
    if (!box || box.dataset.drawn) return;
    box.dataset.drawn = "1";
    const info = exp.tensorboard || {};
    if (info.url) box.appendChild(el("a", {"class": "button", href: info.url, text: "Open TensorBoard"}));
    else if (!info.installed) box.appendChild(el("span", {"class": "muted", text: "TensorBoard is not installed: " + info.install_hint}));
    else box.appendChild(el("span", {"class": "muted"}, ["TensorBoard: start the site with ", el("code", {text: info.command})]));
  }
  function refreshOverview() {
    return api("/api/experiment").then(function (exp) {
      lastExperiment = exp;
      const names = Array.from(expanded).filter(function (n) { return exp.stages.some(function (s) { return s.name === n; }); });
      return Promise.all(names.map(function (n) { return api("/api/stages/" + enc(n) + "?limit=30&sort=name"); })).then(function (list) {
        const stageData = {};
        names.forEach(function (n, i) { stageData[n] = list[i]; });
        drawHeader(exp); drawDag(exp, stageData); drawTensorboard(exp);
        const live = isLive(exp.status);
        setLive(live ? "● live" : "finished: not updating");
        body.dataset.experimentStatus = exp.status || "waiting";
        return live;
      });
    });
  }

  /* ---------- stage ---------- */
  const state = {sort: "name", desc: false, q: "", status: "", offset: 0, limit: 50};
  function stageQuery(stage) {
    return "/api/stages/" + enc(stage) + "?sort=" + enc(state.sort) + "&desc=" + (state.desc ? 1 : 0) +
           "&q=" + enc(state.q) + "&status=" + enc(state.status) + "&offset=" + state.offset + "&limit=" + state.limit;
  }
  function drawStage(stage, d) {
    const head = document.getElementById("stage-header");
    while (head.firstChild) head.removeChild(head.firstChild);
    const h = el("h1", {}, ["Stage " + stage + " ", badge(d.status)]);
    h.querySelector(".badge").id = "stage-status";
    head.appendChild(h);
    head.appendChild(facts([
      ["Metric", d.metric.name + " (" + (d.metric.direction === "min" ? "lower" : "higher") + " is better)"],
      ["Variants", d.total + " — " + STATUS.map(function (k) { return k + " " + (d.counts[k] || 0); }).join(", ")],
      ["Reduce", d.reduce ? "keeps the best " + d.reduce : "keeps all"],
      ["Depends on", d.depends_on.join(", ") || "—"], ["Time", fmtDur(d.elapsed)]]));
    const sel = document.getElementById("status-filter");
    if (sel.options.length === 1) for (const k of STATUS) sel.appendChild(el("option", {value: k, text: k}));
    const cols = [["name", "Variant"], ["status", "Status"]].concat(d.params.map(function (p) { return ["param:" + p, p]; }))
      .concat([["step", "Step"], ["last_metric", "Last " + d.metric.name + (d.metric.direction === "min" ? " ↓" : " ↑")],
               ["best_metric", "Best " + d.metric.name], ["duration", "Duration"], [null, "Kept / reduced"], [null, "Error"]]);
    const thead = document.querySelector("#variants thead");
    while (thead.firstChild) thead.removeChild(thead.firstChild);
    const tr = el("tr");
    for (const [key, label] of cols) {
      const th = el("th", {"data-sort": key, "class": key === state.sort ? "sorted" + (state.desc ? " desc" : "") : null, text: label});
      if (key) th.addEventListener("click", function () {
        if (state.sort === key) state.desc = !state.desc; else { state.sort = key; state.desc = key.indexOf("metric") >= 0 && d.metric.direction !== "min"; }
        state.offset = 0; refreshStage(stage);
      });
      tr.appendChild(th);
    }
    thead.appendChild(tr);
    const tbody = document.querySelector("#variants tbody");
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    for (const r of d.rows) {
      const cells = [el("td", {}, [el("a", {href: "/variants/" + enc(r.id), text: r.name})]), el("td", {}, [badge(r.status), r.reused && r.status !== "reused" ? " ♻" : ""])]
        .concat(d.params.map(function (p) { return el("td", {text: fmtNum(r.params[p])}); }))
        .concat([el("td", {text: (r.step === null || r.step === undefined ? "—" : String(r.step)) + (r.total_steps ? " / " + r.total_steps : "")}),
                 el("td", {text: fmtNum(r.last_metric)}), el("td", {text: fmtNum(r.best_metric)}),
                 el("td", {text: fmtDur(r.duration)}), el("td", {text: r.reason || ""}),
                 el("td", {"class": "error"}, r.has_error ? [r.error || "error", " ", el("a", {href: "/variants/" + enc(r.id) + "#error", text: "traceback"})] : [])]);
      tbody.appendChild(el("tr", {"data-variant": r.id, "data-status": r.status}, cells));
    }
    document.getElementById("page-info").textContent = d.matching === 0 ? "no variant matches" :
      (d.offset + 1) + "–" + Math.min(d.offset + d.limit, d.matching) + " of " + d.matching + (d.matching !== d.total ? " (" + d.total + " in all)" : "");
    document.getElementById("prev").disabled = d.offset === 0;
    document.getElementById("next").disabled = d.offset + d.limit >= d.matching;
  }
  function plotLayout(title, extra) {
    return Object.assign({title: {text: title, font: {size: 13}}, margin: {l: 55, r: 20, t: 35, b: 45}, hovermode: "closest", showlegend: false}, extra || {});
  }
  function drawCurves(c) {
    if (!window.Plotly) return;
    const traces = c.variants.filter(function (v) { return v.steps.length; }).map(function (v) {
      return {type: "scatter", mode: "lines+markers", name: v.name, x: v.steps, y: v.values, line: {width: 1.5}, marker: {size: 4}};
    });
    const curves = document.getElementById("curves");
    curves.dataset.traces = String(traces.length);
    curves.dataset.points = String(traces.reduce(function (n, t) { return n + t.x.length; }, 0));
    Plotly.react(curves, traces, plotLayout(c.metric + " by step (" + traces.length + " variants)", {xaxis: {title: {text: "step"}}, yaxis: {title: {text: c.metric}}}), {displaylogo: false, responsive: true});
    const params = [];
    for (const v of c.variants) for (const k of Object.keys(v.params)) if (params.indexOf(k) < 0) params.push(k);
    const done = c.variants.filter(function (v) { return v.final !== null; });
    const dims = params.map(function (p) {
      const values = done.map(function (v) { return v.params[p]; });
      if (values.every(function (x) { return typeof x === "number"; })) return {label: p, values: values};
      const cats = Array.from(new Set(values.map(String)));
      return {label: p, values: values.map(function (x) { return cats.indexOf(String(x)); }), tickvals: cats.map(function (_, i) { return i; }), ticktext: cats};
    });
    dims.push({label: c.metric, values: done.map(function (v) { return v.final; })});
    const pc = document.getElementById("parcoords");
    if (done.length && params.length) {
      Plotly.react(pc, [{type: "parcoords", line: {color: done.map(function (v) { return v.final; }), colorscale: "Viridis", showscale: true}, dimensions: dims}],
                   plotLayout("parameters → final " + c.metric, {margin: {l: 60, r: 60, t: 60, b: 30}}), {displaylogo: false, responsive: true});
    } else { pc.textContent = params.length ? "no finished variant yet" : "this stage has no searched parameter"; }
    const sel = document.getElementById("scatter-param");
    if (!sel.options.length) for (const p of params) sel.appendChild(el("option", {value: p, text: p}));
    const p = sel.value;
    const sc = document.getElementById("scatter");
    if (p && done.length) {
      Plotly.react(sc, [{type: "scatter", mode: "markers", x: done.map(function (v) { return v.params[p]; }), y: done.map(function (v) { return v.final; }),
                         text: done.map(function (v) { return v.name; }), marker: {size: 9, color: done.map(function (v) { return COLORS[v.status] || "#1a73e8"; })}}],
                   plotLayout(p + " vs final " + c.metric, {xaxis: {title: {text: p}}, yaxis: {title: {text: c.metric}}}), {displaylogo: false, responsive: true});
    }
  }
  let lastCurves = 0;
  function refreshStage(stage) {
    return api(stageQuery(stage)).then(function (d) {
      drawStage(stage, d);
      const live = isLive(d.experiment_status);
      setLive(live ? "● live" : "finished: not updating");
      const now = Date.now();
      if (now - lastCurves > (live ? 4000 : 1e12) || !lastCurves) {
        lastCurves = now;
        return api("/api/stages/" + enc(stage) + "/curves").then(function (c) { drawCurves(c); return live; });
      }
      return live;
    });
  }

  /* ---------- variant ---------- */
  function drawVariant(v) {
    const head = document.getElementById("variant-header");
    while (head.firstChild) head.removeChild(head.firstChild);
    const h = el("h1", {}, [el("a", {href: "/stages/" + enc(v.stage), text: v.stage}), " / " + v.name + " ", badge(v.status)]);
    head.appendChild(h);
    head.appendChild(facts([["Id", v.id], ["Step", String(v.step) + (v.total_steps ? " / " + v.total_steps : "")],
      ["Last " + v.metric.name, fmtNum(v.last_metric)], ["Best " + v.metric.name + " (" + v.metric.direction + ")", fmtNum(v.best_metric)],
      ["Kept / reduced", v.reason || (v.reused ? "reused" : "—")], ["Folder", v.folder || "—"],
      ["Started", fmtTime(v.started)], ["Last update", fmtTime(v.updated)]]));
    if (v.error) { document.getElementById("variant-error").hidden = false; document.getElementById("error").textContent = v.error; }
    const params = document.getElementById("params");
    while (params.firstChild) params.removeChild(params.firstChild);
    const keys = Object.keys(v.params);
    if (!keys.length) params.appendChild(el("tr", {}, [el("td", {"class": "muted", text: "no searched parameter"})]));
    for (const k of keys) params.appendChild(el("tr", {}, [el("th", {text: k}), el("td", {text: JSON.stringify(v.params[k])})]));
    for (const [id, list] of [["lineage", v.lineage], ["used-by", v.used_by]]) {
      const ul = document.getElementById(id);
      while (ul.firstChild) ul.removeChild(ul.firstChild);
      if (!list.length) ul.appendChild(el("li", {"class": "muted", text: "none"}));
      for (const u of list) ul.appendChild(el("li", {}, [u.stage + " / ", el("a", {href: "/variants/" + enc(u.id), text: u.name || u.id}), " ", badge(u.status)]));
    }
    const ck = document.getElementById("checkpoint");
    while (ck.firstChild) ck.removeChild(ck.firstChild);
    if (!v.checkpoint) ck.appendChild(el("p", {"class": "muted", text: "no checkpoint in this folder"}));
    else {
      ck.appendChild(el("p", {}, [v.checkpoint_files.length + " files, " + fmtBytes(v.checkpoint_size)]));
      const t = el("table", {id: "checkpoint-files"});
      for (const f of v.checkpoint_files) t.appendChild(el("tr", {}, [el("td", {}, [el("a", {href: "/files/" + f.path.split("/").map(enc).join("/"), text: f.path})]), el("td", {text: fmtBytes(f.size)})]));
      ck.appendChild(el("div", {"class": "table-wrap"}, [t]));
    }
    document.getElementById("snippet").textContent = v.load_snippet || "";
    if (location.hash === "#error" && v.error) document.getElementById("variant-error").scrollIntoView();
  }
  function fmtBytes(n) {
    const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  }
  function drawScalars(s) {
    if (!window.Plotly) return;
    const box = document.getElementById("scalars");
    const tags = Object.keys(s.scalars);
    if (!tags.length && !box.firstChild) { box.appendChild(el("p", {"class": "muted", text: "no scalar logged yet"})); return; }
    for (const tag of tags) {
      const id = "scalar-" + tag.replace(/[^A-Za-z0-9_-]/g, "_");
      let div = document.getElementById(id);
      if (!div) { if (box.firstChild && box.firstChild.tagName === "P") box.removeChild(box.firstChild); div = el("div", {id: id, "class": "plot", "data-tag": tag}); box.appendChild(div); }
      const d = s.scalars[tag];
      Plotly.react(div, [{type: "scatter", mode: "lines+markers", x: d.steps, y: d.values, marker: {size: 3}}],
                   plotLayout(tag, {xaxis: {title: {text: "step"}}}), {displaylogo: false, responsive: true});
    }
  }

  /* ---------- start ---------- */
  if (page === "overview") poll(refreshOverview, 1500);
  if (page === "stage") {
    const stage = body.dataset.stage;
    let timer = null;
    document.getElementById("filter").addEventListener("input", function (e) {
      clearTimeout(timer); timer = setTimeout(function () { state.q = e.target.value; state.offset = 0; refreshStage(stage); }, 250);
    });
    document.getElementById("status-filter").addEventListener("change", function (e) { state.status = e.target.value; state.offset = 0; refreshStage(stage); });
    document.getElementById("prev").addEventListener("click", function () { state.offset = Math.max(0, state.offset - state.limit); refreshStage(stage); });
    document.getElementById("next").addEventListener("click", function () { state.offset += state.limit; refreshStage(stage); });
    document.getElementById("scatter-param").addEventListener("change", function () { lastCurves = 0; refreshStage(stage); });
    poll(function () { return refreshStage(stage); }, 2000);
  }
  if (page === "variant") {
    const vid = body.dataset.variant;
    poll(function () {
      return Promise.all([api("/api/variants/" + enc(vid)), api("/api/variants/" + enc(vid) + "/scalars")]).then(function (r) {
        drawVariant(r[0]); drawScalars(r[1]);
        return api("/api/experiment").then(function (e) { const live = isLive(e.status); setLive(live ? "● live" : "finished: not updating"); return live; });
      });
    }, 3000);
    follow("/api/variants/" + enc(vid) + "/log/stream", document.getElementById("variant-log"));
  }
  if (page === "logs") follow("/api/logs/stream", document.getElementById("console"));
})();
