// The order page waits for the payment: it asks for the order's state every two seconds and shows it when the
// money has landed (or the order was cancelled), without reloading the page.
(function () {
  var wait = document.getElementById("pay-wait");
  if (!wait || !window.fetch) return;
  var url = wait.dataset.state;
  function ask() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (state && state.status !== "pending_payment") {
          document.querySelector("[data-testid=order-status]").textContent = state.status_text;
          document.querySelector("[data-testid=payment-status]").textContent = state.payment_status_text;
          var qr = document.getElementById("wxpay");
          if (qr) qr.hidden = true;
          wait.hidden = true;
          return;
        }
        window.setTimeout(ask, 2000);
      })
      .catch(function () { window.setTimeout(ask, 5000); });
  }
  window.setTimeout(ask, 2000);
})();
