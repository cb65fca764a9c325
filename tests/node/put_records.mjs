// Puts records into a Firehose stream with @aws-sdk/client-firehose and prints the outcome as one JSON line.
// Usage: node put_records.mjs <stream> <record>... (endpoint, region and credentials come from the AWS_* env)
import { FirehoseClient, PutRecordBatchCommand, PutRecordCommand } from "@aws-sdk/client-firehose";

const [stream, ...records] = process.argv.slice(2);
if (!stream || records.length < 2) {
  console.error("usage: node put_records.mjs <stream> <record> <record>...");
  process.exit(2);
}
const client = new FirehoseClient({});
const encoder = new TextEncoder();
const single = await client.send(
  new PutRecordCommand({ DeliveryStreamName: stream, Record: { Data: encoder.encode(records[0]) } }),
);
const batch = await client.send(
  new PutRecordBatchCommand({
    DeliveryStreamName: stream,
    Records: records.slice(1).map((text) => ({ Data: encoder.encode(text) })),
  }),
);
let notFound = null;
try {
  await client.send(new PutRecordCommand({ DeliveryStreamName: "missing-stream", Record: { Data: encoder.encode("x") } }));
} catch (error) {
  notFound = { name: error.name, message: error.message, status: error.$metadata?.httpStatusCode };
}
console.log(
  JSON.stringify({
    recordId: single.RecordId,
    failedPutCount: batch.FailedPutCount,
    batchIds: batch.RequestResponses.map((entry) => entry.RecordId),
    notFound,
  }),
);
