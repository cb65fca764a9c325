"""Firehose stream settings more than one integration module creates streams with."""

from __future__ import annotations

from typing import Any

# Dynamic partitioning keyed by a JQ query of `customer_id`.
DP_SETTINGS: dict[str, Any] = {
    "Prefix": "customer=!{partitionKeyFromQuery:customer_id}/",
    "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
    "DynamicPartitioningConfiguration": {"Enabled": True},
    "ProcessingConfiguration": {
        "Enabled": True,
        "Processors": [
            {
                "Type": "MetadataExtraction",
                "Parameters": [
                    {
                        "ParameterName": "MetadataExtractionQuery",
                        "ParameterValue": "{customer_id:.customer_id}",
                    },
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                ],
            }
        ],
    },
}
