"""The outbox on NATS JetStream: the stream, the relay that fills it (`shop relay`) and the durable consumers that
read it (`shop consume`). Used only when NATS_URL is set; without it `shop serve` does the same work in process."""
