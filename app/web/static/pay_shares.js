// A checkout's pay page: each merchant's payment asks for its order's state every two seconds and turns to paid
// (or cancelled) when the server says so, without reloading; when none waits any more, the page says so.
(function () {
  var shares = Array.prototype.slice.call(document.querySelectorAll(".share[data-state]"));
  if (!shares.length || !window.fetch) return;
  function settled(share, state) {
    var badge = share.querySelector("[data-testid=share-status]");
    badge.textContent = state.payment_status_text;
    badge.classList.add("ok");
    var link = share.querySelector(".pay-link");
    if (link) link.hidden = true;
    share.removeAttribute("data-state");
  }
  function ask() {
    var waiting = shares.filter(function (s) { return s.hasAttribute("data-state"); });
    if (!waiting.length) {
      var qr = document.getElementById("wxpay");
      if (qr) qr.hidden = true;
      document.getElementById("pay-all").hidden = false;
      return;
    }
    Promise.all(waiting.map(function (share) {
      return fetch(share.dataset.state, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) { if (state && state.status !== "pending_payment") settled(share, state); });
    })).then(function () { window.setTimeout(ask, 2000); }, function () { window.setTimeout(ask, 5000); });
  }
  window.setTimeout(ask, 2000);
})();
