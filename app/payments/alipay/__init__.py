"""Alipay (支付宝): desktop page pay and phone web pay into each merchant's own account."""
