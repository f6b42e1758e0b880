// Flash-sale blocks (.flash): count down on the server's clock and enable the button at the opening second.
// The page carries the milliseconds until the sale opens and ends as the server counted them; counting from the
// moment the page arrived (performance.now) makes the shopper's own clock irrelevant. The API is asked once more
// on load (a page may have been kept a moment by the cache) and at each edge, for the words of what is left.
(function () {
  var blocks = Array.prototype.slice.call(document.querySelectorAll(".flash[data-sale]"));
  if (!blocks.length) return;
  function fmt(ms) {
    var s = Math.ceil(ms / 1000), d = Math.floor(s / 86400);
    var h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    return (d ? d + "天 " : "") + h + ":" + String(m).padStart(2, "0") + ":" + String(sec).padStart(2, "0");
  }
  function setTimes(el, startsMs, endsMs) {
    var now = performance.now();
    el._opens = now + startsMs;
    el._ends = now + endsMs;
  }
  function render(el) {
    var now = performance.now(), status = el.dataset.status;
    var button = el.querySelector(".flash-button"), clock = el.querySelector(".flash-clock");
    var when = el.querySelector(".flash-when"), time = el.querySelector(".flash-countdown");
    if (status === "scheduled" && now >= el._opens) { status = "live"; refresh(el); }
    if ((status === "live" || status === "scheduled") && now >= el._ends) { status = "ended"; refresh(el); }
    el.dataset.status = status;
    if (button) {
      button.disabled = status !== "live";
      button.textContent = status === "scheduled" ? button.dataset.soon : status === "live" ? button.dataset.go
        : status === "sold_out" ? button.dataset.gone : button.dataset.over;
    }
    // The flash checkout's own submit button follows the sale too (the server refuses in words regardless).
    var place = document.querySelector('[data-flash-place="' + el.dataset.sale + '"]');
    if (place) place.disabled = status !== "live";
    if (status === "scheduled" || status === "live") {
      clock.hidden = false;
      when.textContent = status === "scheduled" ? el.dataset.opensWords : el.dataset.endsWords;
      time.textContent = fmt((status === "scheduled" ? el._opens : el._ends) - now);
    } else {
      clock.hidden = true;
      if (status === "ended") el.querySelector(".flash-left").textContent = el.dataset.over;
    }
  }
  function refresh(el) {
    var sent = performance.now();
    fetch("/v1/flash-sales/" + encodeURIComponent(el.dataset.sale), {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (sale) {
        if (!sale) return;
        // Half the round trip has passed since the server read its clock.
        var late = (performance.now() - sent) / 2, server = Date.parse(sale.server_time);
        setTimes(el, Math.max(0, Date.parse(sale.starts_at) - server - late),
                 Math.max(0, Date.parse(sale.ends_at) - server - late));
        el.dataset.status = sale.status;
        el.querySelector(".flash-left").textContent = sale.remaining_text;
        render(el);
      })
      .catch(function () {});
  }
  blocks.forEach(function (el) {
    var when = el.querySelector(".flash-when");
    el.dataset.opensWords = when.dataset.opens;
    el.dataset.endsWords = when.dataset.ends;
    setTimes(el, +el.dataset.startsMs, +el.dataset.endsMs);
    render(el);
    refresh(el);
  });
  setInterval(function () { blocks.forEach(render); }, 200);
})();
