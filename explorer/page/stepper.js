// The HTML stepper's replay: moves a cursor over the recorded steps and restyles the SVG.
// Nothing is computed here that the recording does not hold: which card runs, what each
// edge carried and every caption come from the page's data, as the window reads them.
(function (root) {
  "use strict";
  if (!root || root.dataset.agxReady) return;
  root.dataset.agxReady = "1";
  var D = JSON.parse(root.querySelector(".agx-data").textContent);
  var notice = root.querySelector(".agx-untrusted");
  if (notice) notice.parentNode.removeChild(notice);
  var svg = root.querySelector(".agx-svg"), behind = root.querySelector(".agx-behind");
  var NS = "http://www.w3.org/2000/svg";
  var CARD_W = 132, LINE = 18, FONT = 15, TEXT_ROOM = 124, CHAR_EM = 0.56;
  // A card narrower than this on opening has text too small to read (the page always draws
  // it, where the window hides it): the page then opens closer, on where the pass starts.
  var READABLE_PX = 90, OPEN_PX = 120;
  var cards = [], edges = [], cardClass = [], edgeClass = [], gradShown = [];
  root.querySelectorAll(".agx-c").forEach(function (g) { cards[+g.dataset.c] = g; });
  root.querySelectorAll(".agx-e").forEach(function (p) { edges[+p.dataset.e] = p; });
  if (edges.length > 1500) svg.classList.add("agx-many");
  var pills = root.querySelector(".agx-pills"), pillEls = {};
  var ui = {};
  ["first", "back", "play", "forward", "last", "slider", "caption", "speed", "pass", "fit", "tonan"]
    .forEach(function (name) { ui[name] = root.querySelector(".agx-" + name); });
  var inspector = root.querySelector(".agx-inspector");
  function T(ref) { return D.texts[ref]; }  // value texts are kept once, by number
  var state = { pass: 0, step: -1, selected: -1, timer: null };

  // -- stepping, as the window's stepper steps -------------------------------------------
  function count(p) { return D.passes.length ? D.passes[p].run.length : 0; }
  function moveTo(p, step, follow) {
    state.pass = p;
    state.step = Math.max(-1, Math.min(step, count(p) - 1));
    render(follow);
  }
  function forward() {
    if (state.step + 1 < count(state.pass)) { moveTo(state.pass, state.step + 1, true); return true; }
    if (state.pass + 1 < D.passes.length) {
      moveTo(state.pass + 1, count(state.pass + 1) ? 0 : -1, true);
      return true;
    }
    return false;
  }
  function back() {
    if (state.step >= 0) { moveTo(state.pass, state.step - 1, true); return true; }
    if (state.pass > 0) { moveTo(state.pass - 1, count(state.pass - 1) - 1, true); return true; }
    return false;
  }
  function play() {
    if (state.timer !== null || !D.passes.length) return;
    if (state.step >= count(state.pass) - 1) moveTo(state.pass, -1, true);
    state.timer = setInterval(function () { if (!forward() || atEnd()) stop(); },
      Math.max(10, 1000 / +ui.speed.value));
    ui.play.textContent = "Pause";
  }
  function atEnd() {
    return state.step + 1 >= count(state.pass) && state.pass + 1 >= D.passes.length;
  }
  function stop() {
    if (state.timer === null) return;
    clearInterval(state.timer);
    state.timer = null;
    ui.play.textContent = "Play";
  }
  function toggle() { if (state.timer === null) play(); else stop(); }

  // -- what is lit at the cursor -----------------------------------------------------------
  function render(follow) {
    var P = D.passes[state.pass], c = state.step;
    var active = P && c >= 0 ? P.run[c] : -1;
    var acc = P && c >= 0 ? P.acc[c] : -1;
    var roots = P && c === 0 ? P.roots : [];
    for (var i = 0; i < cards.length; i++) {
      var fill = D.roles[i];
      if (i === acc) fill = "accumulated";
      else if (P && P.done[i] >= 0 && c >= P.done[i]) fill = "done";
      var outline = "";
      if (i === state.selected) outline = " agx-selected";
      else if (i === active || roots.indexOf(i) >= 0) outline = " agx-running";
      else if (P && P.nan && i === P.nan.card && c >= P.nan.step) outline = " agx-nonfinite";
      var cls = "agx-c agx-" + D.roles[i] + (fill !== D.roles[i] ? " agx-" + fill : "") + outline;
      if (cardClass[i] !== cls) { cards[i].setAttribute("class", cls); cardClass[i] = cls; }
      var grad = P && P.grads[i] && c >= P.grads[i][0] ? P.grads[i][1] : null;
      if (gradShown[i] !== grad) { writeCard(i, grad); gradShown[i] = grad; }
    }
    var sentNow = P && c >= 0 ? P.sent[c] : [];
    for (var e = 0; e < edges.length; e++) {
      var first = P ? P.first[e] : -1;
      var lit = first >= 0 && c >= first;
      var ecls = lit ? (sentNow.indexOf(e) >= 0 ? "agx-e agx-act" : "agx-e agx-flow") : "agx-e";
      if (edgeClass[e] !== ecls) { edges[e].setAttribute("class", ecls); edgeClass[e] = ecls; }
      showPill(e, lit && P.edgeText[e] !== undefined ? P.edgeText[e] : null);
    }
    var n = count(state.pass);
    ui.caption.textContent = !P ? "No backward pass was recorded"
      : c < 0 ? P.before : P.captions[c];
    ui.caption.title = ui.caption.textContent;
    ui.slider.max = n;
    ui.slider.value = c + 1;
    [ui.first, ui.back, ui.play, ui.forward, ui.last, ui.slider].forEach(function (w) {
      w.disabled = n === 0;
    });
    if (ui.pass.selectedIndex !== state.pass) ui.pass.selectedIndex = state.pass;
    if (D.standalone) writeAddress();
    inspect();
    if (follow && active >= 0) keepInView(active);
  }

  function writeCard(i, grad) {
    var lines = D.lines[i].slice();
    if (grad !== null) lines.push(grad);
    var longest = Math.max.apply(null, lines.map(function (l) { return l.length; }));
    var size = Math.min(FONT, TEXT_ROOM / Math.max(longest * CHAR_EM, 1e-9));
    var step = LINE * size / FONT, top = -(lines.length - 1) / 2 * step + size * 0.35;
    var text = cards[i].querySelector("text");
    text.style.fontSize = size.toFixed(1) + "px";
    while (text.firstChild) text.removeChild(text.firstChild);
    lines.forEach(function (line, k) {
      var span = document.createElementNS(NS, "tspan");
      span.setAttribute("x", "0");
      span.setAttribute("y", (top + k * step).toFixed(1));
      span.textContent = line;
      text.appendChild(span);
    });
  }

  function showPill(e, text) {
    var pill = pillEls[e];
    if (text === null) { if (pill) pill.style.display = "none"; return; }
    if (!pill) {
      pill = pillEls[e] = document.createElementNS(NS, "g");
      pill.setAttribute("class", "agx-pill");
      pill.setAttribute("transform", "translate(" + D.mid[e][0] + "," + D.mid[e][1] + ")");
      pill.appendChild(document.createElementNS(NS, "rect"));
      pill.appendChild(document.createElementNS(NS, "text"));
      pills.appendChild(pill);
    }
    pill.style.display = "";
    var label = pill.lastChild;
    if (label.textContent !== text) {
      label.textContent = text;
      label.setAttribute("y", "5.5");
      var width = text.length * 16 * CHAR_EM + 10, rect = pill.firstChild;
      rect.setAttribute("x", (-width / 2).toFixed(1));
      rect.setAttribute("y", "-10.8");
      rect.setAttribute("width", width.toFixed(1));
      rect.setAttribute("height", "21.6");
      rect.setAttribute("rx", "7");
    }
  }

  // -- the inspector: the selected card, else the running one --------------------------------
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function labelled(label, value) {
    var p = el("p");
    p.appendChild(el("b", label));
    p.appendChild(document.createTextNode(": "));
    p.appendChild(el("span", value, "agx-v"));
    return p;
  }
  function inspect() {
    var P = D.passes[state.pass], c = state.step;
    var i = state.selected >= 0 ? state.selected : (P && c >= 0 ? P.run[c] : -1);
    while (inspector.firstChild) inspector.removeChild(inspector.firstChild);
    if (i < 0) { inspector.appendChild(el("p", "Click a card to inspect it.", "agx-muted")); return; }
    var info = D.info[i], parts = [el("h2", info.title), el("p", info.what, "agx-muted")];
    if (info.module) {
      var made = el("p", "made inside module ");
      made.appendChild(el("b", info.module));
      parts.push(made);
    }
    if (info.forward) {
      parts.push(el("h3", "Derivative"));
      var fwd = el("p", "forward: ");
      fwd.appendChild(el("b", info.forward));
      parts.push(fwd);
      var list = el("ul");
      info.rules.forEach(function (rule) { list.appendChild(el("li", rule)); });
      parts.push(list);
    }
    if (info.shape) parts.push(el("p", "shape " + info.shape));
    if (info.inside) parts.push(el("p", info.inside));
    if (info.value !== undefined) { parts.push(el("h3", "Value")); parts.push(el("p", T(info.value), "agx-v")); }
    if (info.note) parts.push(el("p", info.note, "agx-muted"));
    if (P && P.nan && i === P.nan.card) parts.push(el("p", "NaN starts here. " + P.nan.why, "agx-nan"));
    if (P) parts = parts.concat(D.roles[i] === "call" ? callStep(P, i, c) : nodeStep(P, i, c));
    parts.forEach(function (part) { inspector.appendChild(part); });
  }
  function nodeStep(P, i, c) {
    var s = P.inspect[i];
    var ran = s && P.grads[i] !== undefined ? P.grads[i][0] : ranAt(P, i);
    if (!s || ran < 0 || ran > c) return [el("p", "Not run yet in this backward pass.", "agx-muted")];
    var out = [el("h3", "Backward, this pass")];
    if (s.met) {
      out.push(el("p", s.met.length + " gradients met here and were summed:"));
      s.met.forEach(function (m) {
        out.push(labelled("from " + m[1] + " (slot " + m[2] + ")", T(m[3])));
      });
    }
    s["in"].forEach(function (g, k) {
      out.push(labelled("gradient arrived" + (s["in"].length > 1 ? " (output " + k + ")" : ""), T(g)));
    });
    s.out.forEach(function (g, k) { out.push(labelled("sent to slot " + k, T(g))); });
    if (s.after !== undefined) {
      out.push(labelled(".grad before", T(s.before)));
      out.push(labelled(".grad after", T(s.after)));
    }
    return out;
  }
  function ranAt(P, i) { return P.run.indexOf(i); }
  function callStep(P, i, c) {
    var steps = P.members[i];
    if (!steps || !steps.length) return [];
    var ran = steps.filter(function (k) { return k <= c; }).length;
    return [el("p", "Backward, this pass: " + ran.toLocaleString("en") + " of its nodes ran (steps "
      + (steps[0] + 1) + "–" + (steps[steps.length - 1] + 1) + ").")];
  }

  // -- the view: fit, zoom with the wheel, drag to pan, follow the running card ---------------
  var whole = svg.viewBox.baseVal, full = { x: whole.x, y: whole.y, w: whole.width, h: whole.height };
  var box = { x: full.x, y: full.y, w: full.w, h: full.h };
  function size() {
    var r = svg.getBoundingClientRect();
    return { w: Math.max(r.width, 1), h: Math.max(r.height, 1) };
  }
  function setBox(x, y, w, h) {
    var px = size(), aspect = px.w / px.h;  // the box takes the element's shape: no letterbox
    if (w / h > aspect) { var nh = w / aspect; y -= (nh - h) / 2; h = nh; }
    else { var nw = h * aspect; x -= (nw - w) / 2; w = nw; }
    box = { x: x, y: y, w: w, h: h };
    var text = [x, y, w, h].map(function (v) { return v.toFixed(1); }).join(" ");
    svg.setAttribute("viewBox", text);
    behind.setAttribute("viewBox", text);
  }
  function fit() { setBox(full.x, full.y, full.w, full.h); }
  function centreOn(x, y, w) { var h = w * size().h / size().w; setBox(x - w / 2, y - h / 2, w, h); }
  function cardAt(i) {
    var m = cards[i].transform.baseVal.consolidate().matrix;
    return { x: m.e, y: m.f };
  }
  function keepInView(i) {
    var p = cardAt(i), mx = CARD_W * 0.6, my = CARD_W * 0.4;
    if (p.x < box.x + mx || p.x > box.x + box.w - mx || p.y < box.y + my || p.y > box.y + box.h - my) {
      centreOn(p.x, p.y, box.w);
    }
  }
  function opening() {
    fit();
    if (CARD_W * size().w / box.w >= READABLE_PX || !cards.length) return;
    // too large to read whole: open readable, on where the pass starts, as the window does
    var P = D.passes[D.passes.length - 1], start = P && P.roots.length ? P.roots[0] : 0;
    var p = cardAt(start);
    centreOn(p.x, p.y, CARD_W * size().w / OPEN_PX);
  }
  svg.addEventListener("wheel", function (event) {
    // In a notebook the wheel scrolls the notebook, unless the stepper has the focus or the
    // wheel comes with Ctrl or ⌘ (a trackpad's pinch): only then does it zoom.
    var mine = D.standalone || event.ctrlKey || event.metaKey || root.contains(document.activeElement);
    if (!mine) return;
    event.preventDefault();
    var px = size(), r = svg.getBoundingClientRect();
    var fx = (event.clientX - r.left) / px.w, fy = (event.clientY - r.top) / px.h;
    var k = Math.pow(1.0015, event.deltaY);
    var w = Math.min(Math.max(box.w * k, CARD_W * 2), full.w * 4), h = box.h * w / box.w;
    setBox(box.x + fx * (box.w - w), box.y + fy * (box.h - h), w, h);
  }, { passive: false });
  var drag = null;
  svg.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY, box: box, moved: false };
  });
  svg.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!drag.moved) { drag.moved = true; svg.setPointerCapture(event.pointerId); }
    svg.classList.add("agx-panning");
    var s = drag.box.w / size().w;
    setBox(drag.box.x - dx * s, drag.box.y - dy * s, drag.box.w, drag.box.h);
  });
  function release(event) {
    if (!drag) return;
    var clicked = !drag.moved;
    drag = null;
    svg.classList.remove("agx-panning");
    if (clicked && event.type === "pointerup") {
      var card = event.target.closest && event.target.closest(".agx-c");
      select(card ? +card.dataset.c : -1);
    }
  }
  svg.addEventListener("pointerup", release);
  svg.addEventListener("pointercancel", release);
  // Where the pass shown (else the first pass that has one) first made a NaN or infinity.
  function goToNan() {
    var order = [state.pass].concat(D.passes.map(function (_, k) { return k; }));
    for (var k = 0; k < order.length; k++) {
      var P = D.passes[order[k]];
      if (P && P.nan) {
        stop();
        state.selected = P.nan.card;
        moveTo(order[k], P.nan.step, true);
        return true;
      }
    }
    ui.caption.textContent = "No NaN or infinity: every gradient of every backward pass is finite";
    return false;
  }
  function select(i) { state.selected = i === state.selected ? -1 : i; render(false); }
  if (window.ResizeObserver) {
    new ResizeObserver(function () { setBox(box.x, box.y, box.w, box.h); }).observe(svg);
  }

  // -- the address: #step=K is step K of the last pass (#pass=P&step=K of pass P) -------------
  function readAddress() {
    var m = /(?:^|[#&])step=(\d+)/.exec(location.hash), q = /(?:^|[#&])pass=(\d+)/.exec(location.hash);
    if (!m || !D.passes.length) return false;
    var p = q ? Math.min(Math.max(+q[1], 1), D.passes.length) - 1 : D.passes.length - 1;
    moveTo(p, +m[1] - 1, true);
    return true;
  }
  function writeAddress() {
    if (!D.passes.length) return;
    var last = state.pass === D.passes.length - 1;
    var hash = "#" + (last ? "" : "pass=" + (state.pass + 1) + "&") + "step=" + (state.step + 1);
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  // -- controls and keys ----------------------------------------------------------------------
  function on(button, action) {
    button.addEventListener("mousedown", function (event) { event.preventDefault(); root.focus({ preventScroll: true }); });
    button.addEventListener("click", function () { action(); });
  }
  ui.tonan.hidden = !D.passes.some(function (P) { return P.nan; });
  on(ui.tonan, goToNan);
  on(ui.first, function () { moveTo(state.pass, -1, true); });
  on(ui.back, function () { stop(); back(); });
  on(ui.play, toggle);
  on(ui.forward, function () { stop(); forward(); });
  on(ui.last, function () { moveTo(state.pass, count(state.pass) - 1, true); });
  on(ui.fit, fit);
  ui.slider.addEventListener("input", function () { moveTo(state.pass, +ui.slider.value - 1, true); });
  ui.speed.addEventListener("change", function () { if (state.timer !== null) { stop(); play(); } });
  D.passes.forEach(function (P) { ui.pass.appendChild(el("option", P.name)); });
  ui.pass.hidden = D.passes.length < 2;
  ui.pass.addEventListener("change", function () { stop(); moveTo(ui.pass.selectedIndex, -1, true); });
  function onKey(event) {
    var tag = event.target && event.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var handled = true;
    if (event.key === "ArrowRight") { stop(); forward(); }
    else if (event.key === "ArrowLeft") { stop(); back(); }
    else if (event.key === " " || event.key === "Spacebar") toggle();
    else if (event.key === "Home") moveTo(state.pass, -1, true);
    else if (event.key === "End") moveTo(state.pass, count(state.pass) - 1, true);
    else if (event.key === "f" || event.key === "F") fit();
    else if (event.key === "Escape") select(state.selected);
    else if (event.key === "n" || event.key === "N") goToNan();
    else if (event.key === "ArrowUp" && state.pass > 0) { stop(); moveTo(state.pass - 1, -1, true); }
    else if (event.key === "ArrowDown" && state.pass + 1 < D.passes.length) {
      stop(); moveTo(state.pass + 1, -1, true);
    }
    else if (event.key === "ArrowUp" || event.key === "ArrowDown") handled = true;
    else handled = false;
    if (handled) { event.preventDefault(); event.stopPropagation(); }
  }
  // A page of its own steps with the keys anywhere; in a notebook, while the stepper has focus.
  (D.standalone ? document : root).addEventListener("keydown", onKey);
  if (D.standalone) window.addEventListener("hashchange", readAddress);

  opening();
  if (!(D.standalone && readAddress())) render(false);
})(document.currentScript && document.currentScript.closest(".agx")
   || document.querySelector(".agx:not([data-agx-ready])"));
