"""Kafka brokers: embedded KRaft (`embedded`), an external cluster (`external`), Redpanda (`redpanda`),
topic admin (`admin`), the Kafka jars (`dist`) and the orphan reaper (`reaper`)."""
