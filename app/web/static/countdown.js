// Counts down to data-until (RFC 3339) in every .countdown element.
(function () {
  var els = document.querySelectorAll(".countdown[data-until]");
  function tick() {
    els.forEach(function (el) {
      var ms = Date.parse(el.dataset.until) - Date.now();
      if (ms <= 0) { el.textContent = "0:00:00"; return; }
      var s = Math.floor(ms / 1000), d = Math.floor(s / 86400);
      var h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
      el.textContent = (d ? d + "d " : "") + h + ":" + String(m).padStart(2, "0") + ":" + String(sec).padStart(2, "0");
    });
  }
  if (els.length) { tick(); setInterval(tick, 1000); }
})();
