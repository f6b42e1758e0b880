// Card payment with Stripe.js (loaded from js.stripe.com in production); the key comes from a data attribute.
(function () {
  var box = document.getElementById("pay");
  var pk = document.querySelector('meta[name="stripe-key"]');
  if (!box || !pk || typeof window.Stripe !== "function") return;
  var stripe = window.Stripe(pk.content);
  var elements = stripe.elements({ clientSecret: box.dataset.clientSecret });
  elements.create("payment").mount("#payment-element");
})();
