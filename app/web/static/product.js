// The option picker: as options are chosen, values that would make a combination that does not exist or is
// sold out are disabled; price, promotion, availability and the gallery follow the chosen variant. The page
// works without this script (the server resolves the options posted, and refuses a sold-out combination).
(function () {
  var data = document.getElementById("variants-data");
  var form = document.getElementById("buy-form");
  if (!data || !form) return;
  var variants = JSON.parse(data.textContent);
  var groups = Array.prototype.slice.call(form.querySelectorAll("fieldset.options"));
  function chosen() {
    var out = {};
    form.querySelectorAll('input[type=radio][name^="opt."]:checked').forEach(function (r) { out[r.name.slice(4)] = r.value; });
    return out;
  }
  function matches(v, wanted) {
    for (var k in wanted) { if (v.attributes[k] !== wanted[k]) return false; }
    return true;
  }
  function current() {
    var picked = form.querySelector('input[name="variant_id"]:checked') || form.querySelector('input[name="variant_id"][type=hidden]');
    if (picked) return variants.filter(function (v) { return v.id === picked.value; })[0];
    var want = chosen();
    if (Object.keys(want).length < groups.length) return null;
    return variants.filter(function (v) { return matches(v, want); })[0] || null;
  }
  function refresh() {
    // Each option is narrowed by the options before it (colour, then size): the first is always free to change.
    groups.forEach(function (g, gi) {
      var before = {};
      groups.slice(0, gi).forEach(function (h) {
        var c = h.querySelector("input:checked");
        if (c) before[c.name.slice(4)] = c.value;
      });
      g.querySelectorAll('input[type=radio][name^="opt."]').forEach(function (r) {
        var trial = {}, k;
        for (k in before) trial[k] = before[k];
        trial[r.name.slice(4)] = r.value;
        var ok = variants.some(function (v) { return matches(v, trial) && v.available > 0; });
        r.disabled = !ok;
        r.parentNode.classList.toggle("out", !ok);
        if (!ok && r.checked) r.checked = false;
      });
    });
    var v = current();
    document.getElementById("v-price").textContent = v ? v.price_text : "";
    document.getElementById("v-promo").textContent = v ? v.promo_text : "";
    var stockLine = document.getElementById("v-stock");
    stockLine.textContent = v ? v.stock_text : stockLine.dataset.choose || "";
    stockLine.classList.toggle("out", !v || v.available <= 0);
    var add = document.getElementById("add");
    add.disabled = !v || v.available <= 0;
    var qty = document.getElementById("qty");
    if (v) qty.max = Math.min(v.available, 99);
    if (v && v.pictures.length) {
      var img = document.getElementById("main-pic");
      if (img) { img.src = v.pictures[0].src; img.srcset = v.pictures[0].srcset; img.alt = v.pictures[0].alt; }
      var list = document.getElementById("thumbs");
      list.innerHTML = "";
      v.pictures.forEach(function (p, i) {
        var li = document.createElement("li"), b = document.createElement("button"), t = document.createElement("img");
        b.type = "button"; b.className = "thumb"; b.dataset.src = p.src; b.dataset.srcset = p.srcset;
        b.setAttribute("aria-label", String(i + 1)); t.src = p.src; t.alt = ""; t.width = 64; t.height = 64;
        b.appendChild(t); li.appendChild(b); list.appendChild(li);
      });
    }
  }
  form.addEventListener("change", refresh);
  document.getElementById("thumbs").addEventListener("click", function (e) {
    var b = e.target.closest("button.thumb"), img = document.getElementById("main-pic");
    if (b && img) { img.src = b.dataset.src; img.srcset = b.dataset.srcset; }
  });
  refresh();
})();
