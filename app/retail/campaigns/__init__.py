"""Festival campaigns (春节年货节, 双十一): merchants' products and promotions grouped for a period."""
