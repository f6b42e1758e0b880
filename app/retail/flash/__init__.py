"""Flash sales (秒杀): a few units at a low price from a set second, limited per buyer, each sold exactly once."""
