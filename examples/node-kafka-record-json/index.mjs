// Archive Kafka records from an MSK event source mapping into Amazon Data Firehose.
//
// Written the way many teams write it (and the way the "Streaming Data Solution for Amazon MSK" archiver
// behaves): every Kafka record of the event is written as one JSON line, exactly as Lambda delivered it
// (topic, partition, offset, timestamp, base64 key/value, headers), with PutRecordBatch in chunks of 500.
// Entries Firehose rejects are retried up to MAX_RETRIES times; after that the function logs what it could
// not send and still returns success -- so under throttling it silently drops records. The msk-harness
// scenarios beside this file show that drop, naming the records by topic/partition/offset.
import { FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";

const MAX_RETRIES = 3;
const BATCH_RECORDS = 500;
const BATCH_BYTES = 4 * 1024 * 1024;
const client = new FirehoseClient({});
const streamName = process.env.DELIVERY_STREAM_NAME;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function* chunks(entries) {
  let batch = [];
  let bytes = 0;
  for (const entry of entries) {
    if (batch.length === BATCH_RECORDS || (batch.length > 0 && bytes + entry.Data.length > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += entry.Data.length;
  }
  if (batch.length > 0) yield batch;
}

async function putWithRetries(entries) {
  let pending = entries;
  for (let attempt = 0; attempt <= MAX_RETRIES && pending.length > 0; attempt += 1) {
    if (attempt > 0) await sleep(100 * 2 ** (attempt - 1));
    const result = await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: streamName, Records: pending }),
    );
    if (!result.FailedPutCount) return 0;
    pending = pending.filter((_, i) => result.RequestResponses[i].ErrorCode);
    console.log(`PutRecordBatch attempt ${attempt + 1}: ${pending.length} record(s) failed`);
  }
  return pending.length;
}

export const handler = async (event) => {
  const entries = [];
  for (const records of Object.values(event.records ?? {})) {
    for (const record of records) {
      entries.push({ Data: Buffer.from(`${JSON.stringify(record)}\n`) });
    }
  }
  let dropped = 0;
  for (const batch of chunks(entries)) {
    dropped += await putWithRetries(batch);
  }
  if (dropped > 0) {
    console.error(`All retries exceeded: Could not send ${dropped} record(s)`);
  }
  return { statusCode: 200, records: entries.length, dropped };
};
