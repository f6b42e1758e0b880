// Card payment with Stripe.js (loaded from js.stripe.com in production). The publishable key and the
// PaymentIntent's client secret come from data attributes; the webhook marks the order paid.
(function () {
  var box = document.getElementById("pay");
  if (!box || !box.dataset.key || typeof window.Stripe !== "function") return;
  var stripe = window.Stripe(box.dataset.key);
  var elements = stripe.elements({ clientSecret: box.dataset.clientSecret });
  elements.create("payment").mount("#payment-element");
  var form = document.getElementById("pay-form");
  var button = form.querySelector("button");
  button.hidden = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: window.location.href } })
      .then(function (result) {
        if (result.error) {
          document.getElementById("pay-error").textContent = result.error.message;
          button.disabled = false;
        }
      });
  });
})();
