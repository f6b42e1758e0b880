"""WeChat Pay (微信支付) API v3 as a service provider: Native, H5 and JSAPI payments into each merchant's own
account (its ``sub_mchid``)."""
