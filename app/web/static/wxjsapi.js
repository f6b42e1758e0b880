// Inside WeChat: the button hands the signed parameters to WeChat's JS bridge, which shows the payment; whether
// the money landed is learnt from the server (poll.js / pay_shares.js), never from the bridge's answer.
(function () {
  var button = document.querySelector(".wxjsapi-pay");
  if (!button) return;
  var error = document.querySelector(".wxjsapi-error");
  function pay() {
    if (!window.WeixinJSBridge) return;
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", JSON.parse(button.dataset.jsapi), function (res) {
      if (error) error.hidden = !!(res && res.err_msg === "get_brand_wcpay_request:ok");
    });
  }
  button.addEventListener("click", function () {
    if (window.WeixinJSBridge) pay();
    else document.addEventListener("WeixinJSBridgeReady", pay, { once: true });
  });
})();
