/**
 * The scenario document as written, before normalisation: generated from
 * scenario.schema.json by test/scenarios/scenario-document.ts (json-schema-to-typescript).
 * Do not edit: run `npm run gen:types`. test/scenarios/scenario-document.test.ts fails
 * when this file and the schema disagree.
 */
/* eslint-disable */

/**
 * One tally run: connection-churn load against a target and OTLP telemetry pushed to a pipeline, then reconciled. Every value is derived from `seed`. Durations are strings with units (`30s`, `250ms`, `1m30s`).
 */
export type TallyScenario = {
  [k: string]: unknown;
} & {
  /**
   * Scenario name, used in the run id and reports.
   */
  name: string;
  /**
   * Seed from which every series, value, trace id and fault decision is derived.
   */
  seed?: number;
  /**
   * How long load and telemetry run. At most 168h.
   */
  duration: string;
  load?: Load;
  telemetry?: Telemetry;
  embedded?: Embedded;
  reconcile?: Reconcile;
  backends?: Backends;
  outputs?: Outputs;
  thresholds?: Thresholds;
  budget?: Budget;
};
/**
 * Connection-churn load against a target: an executor (k6 vocabulary) decides when iterations start; each iteration sends `requestsPerIteration` requests under the connection lifecycle.
 */
export type Load = {
  /**
   * Target URL: `http://host:port/path` for `protocol: http1`, `tcp://host:port` for `tcp-crr`. Omitted: tally starts its embedded target (HTTP or echo) on 127.0.0.1. The host may be a name; see `dns`.
   */
  target?: string;
  /**
   * When iterations start, in k6 vocabulary. Open model (iterations start at planned times whatever the target does; late starts and dropped iterations are counted): `constant-arrival-rate`, `ramping-arrival-rate`, and tally's `burst`. Closed model (each VU runs iterations back to back): `constant-vus`, `ramping-vus`.
   */
  executor: 'constant-arrival-rate' | 'ramping-arrival-rate' | 'burst' | 'constant-vus' | 'ramping-vus';
  /**
   * `constant-arrival-rate`: iterations started per `timeUnit`, paced evenly in time.
   */
  rate?: number;
  /**
   * `ramping-arrival-rate`: the rate at the start of the first stage, per `timeUnit`.
   */
  startRate?: number;
  /**
   * Period over which `rate`, `startRate` and arrival-rate stage targets count iterations. From 1ms to 1h.
   */
  timeUnit?: string;
  /**
   * `ramping-arrival-rate` (targets in iterations per `timeUnit`) or `ramping-vus` (targets in VUs): each stage moves linearly from the previous target to its own over its duration. The load ends with the last stage, which must not end after `/duration`.
   *
   * @minItems 1
   * @maxItems 100
   */
  stages?: [
    {
      /**
       * Length of the stage. At most 168h.
       */
      duration: string;
      /**
       * Rate (per timeUnit) or VUs at the end of the stage.
       */
      target: number;
    },
    ...{
      /**
       * Length of the stage. At most 168h.
       */
      duration: string;
      /**
       * Rate (per timeUnit) or VUs at the end of the stage.
       */
      target: number;
    }[]
  ];
  /**
   * `burst`: churn storms. `connections` iterations released evenly within `window`, every `every`, from the run start.
   */
  burst?: {
    /**
     * Iterations released per burst.
     */
    connections: number;
    /**
     * Time over which one burst is released. At most 1h.
     */
    window: string;
    /**
     * Period between burst starts. At most 24h.
     */
    every: string;
  };
  /**
   * `constant-vus`: virtual users, each running iterations back to back.
   */
  vus?: number;
  /**
   * `ramping-vus`: VUs at the start of the first stage.
   */
  startVUs?: number;
  /**
   * Open model: most iterations in flight across all workers (split evenly). An iteration due while a worker is at its limit is dropped and counted, as k6's dropped_iterations.
   */
  maxInFlight?: number;
  /**
   * Worker threads, each running one long shard loop. Default: one per core.
   */
  workers?: number;
  /**
   * Open model: an iteration that starts later than its intended start by more than this counts as a late start. At most 1h.
   */
  lateStartThreshold?: string;
  /**
   * Requests (or tcp-crr exchanges) each iteration sends, one after another.
   */
  requestsPerIteration?: number;
  /**
   * `http1`: HTTP/1.1 over node:net. `tcp-crr`: TCP connect-request-response as netperf/neper TCP_CRR: `tcpCrr.requestBytes` written, `tcpCrr.responseBytes` read back.
   */
  protocol?: 'http1' | 'tcp-crr';
  /**
   * Payload sizes of `protocol: tcp-crr`.
   */
  tcpCrr?: {
    /**
     * Bytes written per exchange.
     */
    requestBytes?: number;
    /**
     * Bytes the target sends back per exchange.
     */
    responseBytes?: number;
  };
  /**
   * How a target host name is resolved (node's dns.lookup, as getaddrinfo). The lookup is timed apart from the connect.
   */
  dns?: {
    /**
     * `per-connection`: look the name up for every new connection. `cached`: reuse an answer for `ttl`.
     */
    resolve?: 'per-connection' | 'cached';
    /**
     * How long a cached answer is used. At most 24h.
     */
    ttl?: string;
  };
  /**
   * Source IP addresses rotated across new connections (round robin). Each one multiplies the ephemeral ports available per destination.
   *
   * @minItems 1
   * @maxItems 1024
   *
   * Items: An IPv4 or IPv6 address of this host.
   */
  localAddresses?: [string, ...string[]];
  /**
   * Connection lifecycle.
   */
  connection?: {
    /**
     * `never`: a new TCP connection per request (connection churn). `per-iteration`: one connection carries an iteration's requests. `{ requestsPerConnection: N }`: a connection is closed after N requests. `keep-alive`: an undici Pool keeps connections open.
     */
    reuse?:
      | ('never' | 'per-iteration' | 'keep-alive')
      | {
          /**
           * Requests per connection before the client closes it.
           */
          requestsPerConnection: number;
        };
    /**
     * How the client closes: `fin` (orderly, leaves the client socket in TIME_WAIT) or `rst` (abortive, SO_LINGER 0, leaves no TIME_WAIT).
     */
    close?: 'fin' | 'rst';
    /**
     * Give up on a TCP connect after this long (counted as ETIMEDOUT). From 1ms to 10m.
     */
    connectTimeout?: string;
    /**
     * Give up on a response after this long from the request write (counted as ETIMEDOUT). From 1ms to 1h.
     */
    requestTimeout?: string;
    /**
     * `keep-alive` and `requestsPerConnection`: most open connections per worker.
     */
    maxConnections?: number;
  };
  /**
   * The HTTP/1.1 request sent (`protocol: http1`).
   */
  request?: {
    /**
     * HTTP method.
     */
    method?: 'GET' | 'HEAD';
    /**
     * Request target (path and query). Default: the target URL's path.
     */
    path?: string;
  };
};
/**
 * OTLP telemetry pushed to a collector or backend: metrics, traces or both.
 */
export type Telemetry = Telemetry1 & {
  /**
   * OTLP base URL: OTLP/HTTP appends `/v1/metrics` or `/v1/traces`; OTLP/gRPC uses host:port, with TLS when the scheme is `https`. With `protocol: prometheus/remote-write`, the receiver's full URL (e.g. `http://127.0.0.1:9090/api/v1/write`), required. Omitted: the embedded receiver (gRPC or HTTP as `protocol` says).
   */
  endpoint?: string;
  /**
   * Transport and encoding: OTLP (`grpc`, `http/protobuf`, `http/json`), or `prometheus/remote-write` (Prometheus remote write 1.0, protobuf + snappy, to the receiver URL in `endpoint`; counters, up-down counters and gauges only, no traces).
   */
  protocol?: 'grpc' | 'http/protobuf' | 'http/json' | 'prometheus/remote-write';
  /**
   * Body compression: gzip sets Content-Encoding (HTTP) or grpc-encoding (gRPC).
   */
  compression?: 'none' | 'gzip';
  /**
   * TLS client settings, used when the endpoint is https.
   */
  tls?: {
    /**
     * PEM CA bundle that verifies the server. Omitted: Node's default roots.
     */
    caFile?: string;
    /**
     * PEM client certificate for mutual TLS (with keyFile).
     */
    certFile?: string;
    /**
     * PEM client key for mutual TLS (with certFile).
     */
    keyFile?: string;
    /**
     * Accept any server certificate. For lab use only.
     */
    insecureSkipVerify?: boolean;
    /**
     * Name to verify the server certificate against (SNI). Omitted: the endpoint's host. At most 253 characters.
     */
    serverName?: string;
  };
  /**
   * Retries of retryable failures, as the OpenTelemetry Collector's `retry_on_failure`: delay = max(seeded exponential backoff, server's Retry-After / RetryInfo); give up once the next attempt would start later than maxElapsedTime after the first.
   */
  retry?: {
    /**
     * false: every failure is final after one attempt.
     */
    enabled?: boolean;
    /**
     * Backoff before the first retry. At most 1h.
     */
    initialInterval?: string;
    /**
     * Upper bound of the backoff interval. At most 1h.
     */
    maxInterval?: string;
    /**
     * Growth of the interval per retry.
     */
    multiplier?: number;
    /**
     * Each delay is drawn (seeded) uniformly in interval × [1 − f, 1 + f].
     */
    randomizationFactor?: number;
    /**
     * Most time spent on one batch, first attempt to last; 0s = no limit. At most 24h.
     */
    maxElapsedTime?: string;
  };
  /**
   * The exporter's sending queue, as the collector's `sending_queue` sized in requests.
   */
  queue?: {
    /**
     * Batches waiting to be sent (those being sent not counted).
     */
    queueSize?: number;
    /**
     * Concurrent senders per shard; each holds its batch through its retries.
     */
    numConsumers?: number;
    /**
     * drop: a batch that finds the queue full is dropped and counted; block: the generator waits for room (the wait is counted).
     */
    whenFull?: 'drop' | 'block';
  };
  /**
   * How data points are grouped into export requests.
   */
  batch?: {
    /**
     * Most data points (or spans) in one request; replaces telemetry.maxBatchDataPoints, which stays as an alias.
     */
    maxDataPoints?: number;
  };
  /**
   * Time between ticks: each tick exports one data point per series. From 100ms to 24h.
   */
  exportInterval?: string;
  /**
   * Timeout of one export attempt (exporterhelper `timeout`). From 1ms to 10m.
   */
  timeout?: string;
  /**
   * Most data points in one export request.
   */
  maxBatchDataPoints?: number;
  /**
   * Extra HTTP headers, or gRPC metadata (keys lowercased), on every export attempt: at most 64, names of at most 256 characters, values of at most 8192 visible ASCII characters (no line breaks or control characters). Host, Content-Length and the other framing headers tally sets itself are refused. Values never appear in results, plan.json or logs.
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * Options of `protocol: prometheus/remote-write`. Every series carries the run label `tally_run_id` (the run id), so runs never share series; samples are stamped at tick times in whole ms; each request is sent once (no retries): 2xx is acknowledged, any other answer failed.
   */
  remoteWrite?: {
    /**
     * Seeded request faults that make the receiver refuse a request whole (Prometheus answers HTTP 400): decided per request (metric, first series, tick), on even ticks only.
     */
    faults?: {
      /**
       * Fraction of requests (ticks ≥ 4) that also carry their first series' sample of two ticks earlier, already stored: an out-of-order sample.
       */
      outOfOrderRequestRatio?: number;
      /**
       * Fraction of requests (ticks ≥ 2) that also carry their first series' previous-tick timestamp with a different value: a conflicting duplicate sample.
       */
      duplicateRequestRatio?: number;
    };
  };
  /**
   * Extra OTLP resource attributes on every export. `service.name` defaults to `tally`; `tally.run.id` and `tally.shard` are always set by tally and may not be given.
   */
  resource?: {
    [k: string]: string | number | boolean;
  };
  traces?: Traces;
  /**
   * Metric instruments to generate.
   *
   * @minItems 1
   * @maxItems 64
   */
  metrics?: [Metric, ...Metric[]];
};
export type Telemetry1 = {
  [k: string]: unknown;
};
/**
 * Relative weight of a span kind (0 disables it).
 */
export type SpanKindWeight = number;
/**
 * One metric instrument and its series space.
 */
export type Metric = {
  /**
   * OTLP metric name.
   */
  name: string;
  /**
   * OTLP instrument: `counter` (monotonic Sum, as_int), `up-down-counter` (non-monotonic Sum, as_int, signed changes), `gauge` (Gauge, as_double, value = series · 2^20 + tick), `histogram` (explicit buckets), `exponential-histogram` (base-2 buckets).
   */
  instrument: 'counter' | 'up-down-counter' | 'gauge' | 'histogram' | 'exponential-histogram';
  /**
   * OTLP aggregation temporality. Cumulative points start at the series start; delta points at the previous tick. Not allowed for a gauge. Default (applied by the loader): cumulative.
   */
  temporality?: 'delta' | 'cumulative';
  /**
   * OTLP unit (UCUM), for example `1`, `s`, `By`.
   */
  unit?: string;
  /**
   * Cardinality as attribute value counts: each key takes values `<key>-0` … `<key>-(n-1)`, and the series are their product.
   */
  attributes: {
    [k: string]: number;
  };
  /**
   * Explicit bucket upper bounds (upper-inclusive), strictly increasing (checked by the loader). histogram only. Default: the OpenTelemetry SDK's [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000].
   *
   * @minItems 1
   * @maxItems 64
   */
  buckets?: [number, ...number[]];
  /**
   * Exponential histogram scale: bucket i covers (2^(i·2^-scale), 2^((i+1)·2^-scale)]. exponential-histogram only.
   */
  scale?: number;
  /**
   * Populated positive buckets per exponential histogram point. exponential-histogram only.
   */
  maxSize?: number;
  exemplars?: Exemplars;
  churn?: Churn;
} & {
  /**
   * OTLP metric name.
   */
  name: string;
  /**
   * OTLP instrument: `counter` (monotonic Sum, as_int), `up-down-counter` (non-monotonic Sum, as_int, signed changes), `gauge` (Gauge, as_double, value = series · 2^20 + tick), `histogram` (explicit buckets), `exponential-histogram` (base-2 buckets).
   */
  instrument: 'counter' | 'up-down-counter' | 'gauge' | 'histogram' | 'exponential-histogram';
  /**
   * OTLP aggregation temporality. Cumulative points start at the series start; delta points at the previous tick. Not allowed for a gauge. Default (applied by the loader): cumulative.
   */
  temporality?: 'delta' | 'cumulative';
  /**
   * OTLP unit (UCUM), for example `1`, `s`, `By`.
   */
  unit?: string;
  /**
   * Cardinality as attribute value counts: each key takes values `<key>-0` … `<key>-(n-1)`, and the series are their product.
   */
  attributes: {
    [k: string]: number;
  };
  /**
   * Explicit bucket upper bounds (upper-inclusive), strictly increasing (checked by the loader). histogram only. Default: the OpenTelemetry SDK's [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000].
   *
   * @minItems 1
   * @maxItems 64
   */
  buckets?: [number, ...number[]];
  /**
   * Exponential histogram scale: bucket i covers (2^(i·2^-scale), 2^((i+1)·2^-scale)]. exponential-histogram only.
   */
  scale?: number;
  /**
   * Populated positive buckets per exponential histogram point. exponential-histogram only.
   */
  maxSize?: number;
  exemplars?: Exemplars;
  churn?: Churn;
};
/**
 * Where tally pushes its own measurements while the run goes (k6's outputs): every interval line and the final results, as metrics named `tally_self_…` (OTLP `tally.self.…`), labelled `run_id`, `scenario`, `shard`, with `job="tally-self"`, so they cannot be mistaken for the generated telemetry under test. Each output has its own queue, retries and timeouts in a thread of its own: a slow or failing endpoint never slows the load. `tally run --output KIND=URL` adds outputs with the defaults below.
 *
 * @maxItems 4
 */
export type Outputs = [] | [Output] | [Output, Output] | [Output, Output, Output] | [Output, Output, Output, Output];
/**
 * Threshold expressions on one figure, each a string (`p(99)<20ms`, `rate<0.001`, `count==0`) or an object with abortOnFail; at most 32.
 *
 * @minItems 1
 * @maxItems 32
 */
export type ThresholdList = [
  (
    | string
    | {
        /**
         * An expression: <aggregation> <operator> <value>.
         */
        threshold: string;
        /**
         * Stop the run as soon as this threshold is breached (checked every interval): what was measured is kept, and results.json says complete: false with the threshold as the reason.
         */
        abortOnFail?: boolean;
        /**
         * Do not check abortOnFail before this much of the run has passed, so the figure has samples. At most 168h.
         */
        delayAbortEval?: string;
      }
  ),
  ...(
    | string
    | {
        /**
         * An expression: <aggregation> <operator> <value>.
         */
        threshold: string;
        /**
         * Stop the run as soon as this threshold is breached (checked every interval): what was measured is kept, and results.json says complete: false with the threshold as the reason.
         */
        abortOnFail?: boolean;
        /**
         * Do not check abortOnFail before this much of the run has passed, so the figure has samples. At most 168h.
         */
        delayAbortEval?: string;
      }
  )[]
];

/**
 * Synthetic traces pushed as OTLP spans to the same endpoint and protocol as the metrics (`/v1/traces`). Every id, span count, name, kind, status, attribute and time is derived from (seed, shard, sequence), so the reconciler regenerates each trace instead of storing it. Trace id = 8 bytes hashed from the run id · 2 bytes shard · 6 bytes sequence; span id = 4 bytes hashed from the trace · 4 bytes (span index + 1).
 */
export interface Traces {
  /**
   * Traces started per second across all workers, in an open model: trace j is due at start + j / ratePerSecond whatever the endpoint does; worker s of n sends the traces with j ≡ s (mod n).
   */
  ratePerSecond: number;
  /**
   * Spans in each trace: a fixed count, or a range from which each trace's count is drawn (seeded).
   */
  spansPerTrace?:
    | number
    | {
        /**
         * Fewest spans in a trace.
         */
        min: number;
        /**
         * Most spans in a trace (at least `min`; checked in code).
         */
        max: number;
      };
  /**
   * Parentage: `chain` (span i is the child of span i−1, each nested inside its parent) or `fan-out` (every span is a child of the root).
   */
  shape?: 'chain' | 'fan-out';
  /**
   * Span attribute cardinality as value counts: each key takes values `<key>-0` … `<key>-(n-1)`; each span's combination is drawn (seeded) from their product.
   */
  attributes?: {
    [k: string]: number;
  };
  /**
   * Relative weights of OTLP span kinds; each span's kind is drawn (seeded) by these weights, and a kind left out never occurs. At least one weight must be positive (checked in code).
   */
  kinds?: {
    internal?: SpanKindWeight;
    server?: SpanKindWeight;
    client?: SpanKindWeight;
    producer?: SpanKindWeight;
    consumer?: SpanKindWeight;
  };
  /**
   * Fraction of spans with status ERROR (drawn per span, seeded); the others are UNSET.
   */
  statusErrorRatio?: number;
  /**
   * Duration of each trace's root span; children nest inside it. A trace is sent when its root span ends (its intended start plus this). At most 1h.
   */
  spanDuration?: string;
  /**
   * Most spans in one export request; a trace may straddle two requests.
   */
  maxBatchSpans?: number;
  /**
   * Longest a span waits in a batch that is not full before the batch is sent (the SDK BatchSpanProcessor's scheduled delay). At most 1h.
   */
  batchDelay?: string;
}
/**
 * Exemplars: this share of series identities (chosen from the seed) carry one exemplar on every point. With telemetry.traces set, each names a generated trace due in the point's export interval (trace id and root span id, as the trace generator derives them); without, a trace id in the run's id space that no generated trace uses (sequence ≥ 2^47).
 */
export interface Exemplars {
  /**
   * Share of series identities with exemplars.
   */
  ratio: number;
}
/**
 * Series churn (avalanche-style): every `everyTicks` ticks, round(ratio · series) series end and as many new identities begin (same attribute values, next `tally.generation`), each with a fresh start time.
 */
export interface Churn {
  /**
   * Share of the series that rotate at each boundary.
   */
  ratio: number;
  /**
   * Ticks (export intervals) between rotations.
   */
  everyTicks: number;
}
/**
 * Options of the embedded target and receiver, used when no target or endpoint is named.
 */
export interface Embedded {
  /**
   * Embedded HTTP target.
   */
  target?: {
    /**
     * Size of each response body.
     */
    responseBytes?: number;
    /**
     * Delay added before the target answers each request, drawn per request from the seed (fixed, uniform or exponential, as the receiver's faults.latency): a stand-in for a slower system under test.
     */
    latency?:
      | {
          distribution: 'fixed';
          /**
           * The delay. At most 10m.
           */
          value: string;
        }
      | {
          distribution: 'uniform';
          /**
           * Shortest delay. At most 10m.
           */
          min: string;
          /**
           * Longest delay. At most 10m.
           */
          max: string;
        }
      | {
          distribution: 'exponential';
          /**
           * Mean delay. At most 10m.
           */
          mean: string;
          /**
           * Cap on the delay. At most 10m.
           */
          max: string;
        };
    /**
     * A capacity model whose capacity is known exactly (the calibration of `tally sweep`): `servers` servers that each take `serviceTime` per request, fed from one first-come-first-served queue. Capacity = servers ÷ serviceTime requests per second. Below it each answer comes one service time after its request arrived; above it requests wait, so answers come later and later; a request that finds `queueLimit` requests already waiting is answered 503 at once. Not with `latency`.
     */
    capacity?: {
      /**
       * Time one server spends on one request.
       */
      serviceTime: string;
      /**
       * Servers working in parallel.
       */
      servers?: number;
      /**
       * Most requests waiting for a server; one more is answered 503 at once.
       */
      queueLimit?: number;
    };
  };
  /**
   * Embedded OTLP receiver.
   */
  receiver?: {
    faults?: Faults;
    /**
     * A throughput limit whose knee is known exactly (the calibration of a cardinality sweep): a token bucket of data points refilled at dataPointsPerSecond, holding at most burstDataPoints. A metrics request with more data points than the tokens left is refused whole with HTTP 429 / gRPC RESOURCE_EXHAUSTED (Retry-After / RetryInfo as faults.retryAfter says). S series exported every T seconds pass while S ≤ dataPointsPerSecond × T.
     */
    limits?: {
      /**
       * Data points accepted per second (the bucket's refill rate).
       */
      dataPointsPerSecond: number;
      /**
       * Most data points the bucket holds (it starts full). Default: one export interval's worth, dataPointsPerSecond × exportInterval.
       */
      burstDataPoints?: number;
    };
    /**
     * Serve the embedded receiver's OTLP/HTTP and OTLP/gRPC over TLS with this PEM certificate and key (the exporter then verifies it with telemetry.tls.caFile). With caFile and requireClientCert, mutual TLS.
     */
    tls?: {
      /**
       * PEM server certificate (chain).
       */
      certFile: string;
      /**
       * PEM server private key.
       */
      keyFile: string;
      /**
       * PEM CA bundle that verifies client certificates.
       */
      caFile?: string;
      /**
       * Refuse clients without a certificate signed by caFile (mutual TLS).
       */
      requireClientCert?: boolean;
    };
  };
}
/**
 * Seeded, deterministic fault injection in the embedded receiver. A request is decided by its first placed data point (metric, series, tick) or first span (trace id, span id); a point by its own (metric, series, tick). The same scenario faults the same requests and points every time, whatever the arrival order.
 */
export interface Faults {
  /**
   * Fraction of data points rejected through OTLP partial_success (the request still succeeds).
   */
  rejectDataPointRatio?: number;
  /**
   * Fraction of spans rejected through OTLP partial_success (the request still succeeds). Each decision is a function of (seed, shard, sequence, span index).
   */
  rejectSpanRatio?: number;
  /**
   * Fraction of requests answered HTTP 503 / gRPC UNAVAILABLE, nothing stored.
   */
  failRequestRatio?: number;
  /**
   * Fraction of requests answered HTTP 429 / gRPC RESOURCE_EXHAUSTED, nothing stored.
   */
  throttleRequestRatio?: number;
  /**
   * Server hint sent with 503/429 (Retry-After, rounded up to whole seconds) and UNAVAILABLE/RESOURCE_EXHAUSTED (google.rpc.RetryInfo). At most 1h.
   */
  retryAfter?: string;
  /**
   * Send the hint at all. false: RESOURCE_EXHAUSTED carries no RetryInfo, so a compliant client does not retry it.
   */
  retryHint?: boolean;
  /**
   * Retry-After as delay-seconds or as an HTTP-date.
   */
  retryAfterFormat?: 'seconds' | 'http-date';
  /**
   * A request picked for a 503/429 fault fails its first n arrivals, then passes (a transient fault). 0: every arrival fails.
   */
  faultAttempts?: number;
  /**
   * Fraction of requests acknowledged (200 / OK) and then discarded: their points become lost after acknowledgement.
   */
  dropRequestRatio?: number;
  /**
   * Fraction of data points acknowledged and then discarded.
   */
  dropDataPointRatio?: number;
  /**
   * Delay added before the receiver answers (and stores) a request, drawn per request from the seed.
   */
  latency?:
    | {
        distribution: 'fixed';
        /**
         * The delay. At most 10m.
         */
        value: string;
      }
    | {
        distribution: 'uniform';
        /**
         * Shortest delay. At most 10m.
         */
        min: string;
        /**
         * Longest delay. At most 10m.
         */
        max: string;
      }
    | {
        distribution: 'exponential';
        /**
         * Mean delay. At most 10m.
         */
        mean: string;
        /**
         * Cap on the delay. At most 10m.
         */
        max: string;
      };
  /**
   * Fraction of requests that get the added latency.
   */
  latencyRequestRatio?: number;
  /**
   * Refuse any request holding a delta-temporality metric, whole (HTTP 400 / gRPC INVALID_ARGUMENT, "invalid temporality and type combination", as Prometheus's OTLP receiver): its cumulative series are lost with it.
   */
  rejectDeltaTemporality?: boolean;
}
/**
 * Read-back and reconciliation.
 */
export interface Reconcile {
  /**
   * Soft visibility deadline: wait after the last export before reading back; with `backends.prometheus`, a point first visible later than this after it was sent is late. At most 1h.
   */
  settle?: string;
  /**
   * Hard visibility deadline (`backends.prometheus`): a point not visible this long after it was sent is lost. The run polls until every acknowledged point is visible or this passes. At least `settle`. At most 24h.
   */
  maxWait?: string;
}
/**
 * Backends tally reads back from, during and after the run: Prometheus (data points, visibility lag, its own ingest counters, cluster datapath metrics), the OpenTelemetry Collector's self-metrics, Tempo or Jaeger (a sample of traces).
 */
export interface Backends {
  prometheus?: PrometheusBackend;
  collector?: CollectorBackend;
  tempo?: TempoBackend;
  jaeger?: JaegerBackend;
}
/**
 * Prometheus (or a compatible query API: Thanos, Mimir, Cortex) holding the run's metrics, by remote write or through a pipeline. tally polls visibility during and after the run, reads every (series, tick) back, reconciles it with the ledger, and reads Prometheus's own ingest counters.
 */
export interface PrometheusBackend {
  /**
   * How the backend turns OTLP names into Prometheus names (Prometheus's `otlp.translation_strategy`): with or without `_total`/unit suffixes, escaped to underscores or kept as UTF-8. Remote write uses the same naming. Read-back expects the names this gives.
   */
  translationStrategy?: 'UnderscoreEscapingWithSuffixes' | 'UnderscoreEscapingWithoutSuffixes' | 'NoUTF8EscapingWithSuffixes' | 'NoTranslation';
  /**
   * How the backend holds delta-temporality points: `converted` to cumulative on the way (the collector's deltatocumulative processor, or Prometheus's `otlp-deltatocumulative` feature), so read-back expects each series' running sum; or `native` (Prometheus's `otlp-native-delta-ingestion`), stored as sent, so read-back expects each point's own delta. Where nothing converts them, delta points are refused or dropped, and results say which.
   */
  deltaIngestion?: 'converted' | 'native';
  /**
   * Whether the backend stores OTLP explicit-bucket histograms as native histograms with custom buckets (Prometheus's `otlp.convert_histograms_to_nhcb`) rather than as classic `_bucket`/`_sum`/`_count` series. Read-back expects the form this says.
   */
  convertHistogramsToNhcb?: boolean;
  /**
   * Base URL of the HTTP API (`/api/v1/…` is appended), without credentials: e.g. `http://127.0.0.1:9090`, `https://mimir.example/prometheus`.
   */
  url: string;
  /**
   * Credentials for the API: one of `bearerTokenFile` and `basic`, plus optional headers. Secrets never appear in results or logs.
   */
  auth?: {
    /**
     * File holding a bearer token, read on every request (rotation is picked up).
     */
    bearerTokenFile?: string;
    /**
     * HTTP basic authentication; the password from a file (read per request) or an environment variable, exactly one.
     */
    basic?: {
      /**
       * User name.
       */
      username: string;
      /**
       * File holding the password.
       */
      passwordFile?: string;
      /**
       * Environment variable holding the password.
       */
      passwordEnv?: string;
    };
    /**
     * Extra request headers (e.g. `X-Scope-OrgID`): at most 64, names of at most 256 characters, values of at most 8192 visible ASCII characters. Every value is treated as a secret (redacted from plan.json and messages) except those of a few known harmless headers (`X-Scope-OrgID`, `Accept`, `User-Agent`, …).
     */
    headers?: {
      [k: string]: string;
    };
  };
  /**
   * Largest number of samples one read-back query may return: the series of a metric are read in chunks of at most maxSamplesPerQuery / ticks series.
   */
  maxSamplesPerQuery?: number;
  /**
   * Time between visibility polls, during and after the run: the resolution of the time-to-visible histogram. From 10ms to 1h.
   */
  pollInterval?: string;
  /**
   * Most series per metric the visibility polls track: beyond it, a sample of whole read-back chunks spread evenly over the series space (the lag histogram and the visibility counts are the sample's; the read-back after the run still reads every point). Bounds what each poll costs Prometheus and tally's main thread at any cardinality.
   */
  visibilitySeries?: number;
  /**
   * Longest wait for one answer of the Prometheus API (per attempt; a failed attempt is retried at most 3 times): the build-info check before any traffic, each visibility poll and each read-back query. From 100ms to 10m.
   */
  timeout?: string;
  /**
   * Also query the Cilium and node-exporter datapath metrics this Prometheus scrapes (BPF map pressure, drops by reason, conntrack GC, node conntrack) over the run window, into results.json `datapathMetrics`.
   */
  datapathMetrics?: boolean;
}
/**
 * An OpenTelemetry Collector between tally and the backend: its self-metrics (Prometheus text format) are scraped before and after the run for the loss waterfall.
 */
export interface CollectorBackend {
  /**
   * The collector's internal metrics endpoint, e.g. `http://127.0.0.1:8888/metrics`.
   */
  metricsUrl: string;
  /**
   * Receiver ids carrying tally's traffic (e.g. `otlp`); default all.
   *
   * @maxItems 64
   *
   * Items: A receiver id.
   */
  receivers?: string[];
  /**
   * Exporter ids toward the backend under test (e.g. `prometheusremotewrite`); default all (several: a fan-out finding).
   *
   * @maxItems 64
   *
   * Items: An exporter id.
   */
  exporters?: string[];
}
/**
 * Tempo holding the run's traces: after the run, a stratified random sample of the run's trace ids is read by id and checked span by span; trace loss gets a Wilson interval, cross-checked with a search count.
 */
export interface TempoBackend {
  /**
   * Tempo's HTTP base URL, e.g. `http://127.0.0.1:3200`.
   */
  url: string;
  /**
   * Traces verified by id (all of them when the run sent fewer).
   */
  sample?: number;
}
/**
 * Jaeger (v2, or v1 with the v3 query API) holding the run's traces: after the run, the same stratified random sample of the run's trace ids is read by id from its query service (`/api/v3/traces/<id>`) and checked span by span; trace loss gets a Wilson interval, cross-checked with a search on the run's service and `tally.run.id` tag (`/api/traces`).
 */
export interface JaegerBackend {
  /**
   * The query service's HTTP base URL, e.g. `http://127.0.0.1:16686`.
   */
  url: string;
  /**
   * Jaeger's own metrics endpoint (Jaeger v2 serves the OpenTelemetry Collector's self-metrics, e.g. `http://127.0.0.1:8888/metrics`): its receivers' accepted spans and its storage exporter's sent spans become the spans waterfall's backend stage, read every second during the run.
   */
  metricsUrl?: string;
  /**
   * Traces verified by id (all of them when the run sent fewer).
   */
  sample?: number;
}
/**
 * One measurement output.
 */
export interface Output {
  /**
   * `prometheus-remote-write`: Prometheus remote write 1.0 (protobuf + snappy; histograms as native histograms). `otlp`: OTLP/HTTP protobuf (histograms as exponential histograms), e.g. to the team's collector.
   */
  type: 'prometheus-remote-write' | 'otlp';
  /**
   * Remote write: the receiver URL, e.g. `http://prometheus:9090/api/v1/write`. OTLP: the OTLP/HTTP base URL, e.g. `http://otelcol:4318` (`/v1/metrics` is appended). No credentials in the URL: use `headers`.
   */
  url: string;
  /**
   * Extra HTTP headers on every request (tenant, authorization): at most 64, names of at most 256 characters, values of at most 8192 visible ASCII characters; framing headers refused, as for telemetry.headers. Values never appear in results, logs or plan.json.
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * Deadline of one request, to the end of the response. From 1ms to 10m.
   */
  timeout?: string;
  /**
   * Snapshots (one per interval line, usually 1 s) held while the endpoint is slow or down; a full queue drops its oldest. Snapshots are cumulative, so a dropped one costs resolution, never the totals.
   */
  queueSize?: number;
  /**
   * Most snapshots sent in one request when the queue has several.
   */
  maxSnapshotsPerRequest?: number;
  /**
   * Retries of 429, 5xx and requests without an answer: the delay starts at initialInterval and doubles up to maxInterval; a request is given up once the next attempt would start later than maxElapsedTime after its first.
   */
  retry?: {
    /**
     * Delay before the first retry. At most 10m.
     */
    initialInterval?: string;
    /**
     * Largest delay between retries. At most 10m.
     */
    maxInterval?: string;
    /**
     * Most time spent on one request, first attempt to last. At most 1h.
     */
    maxElapsedTime?: string;
  };
  /**
   * After the run, how long the final snapshot (and whatever is queued before it) may take to deliver; what is left is counted as unsent in results.json `measurementOutputs`. At most 10m.
   */
  drainTimeout?: string;
}
/**
 * Pass/fail criteria in k6's syntax and semantics, evaluated at the end of the run (and every interval for abortOnFail): a breached threshold makes `tally run` exit 99. Each name is a headline figure of results.json (or k6's name for it) with a list of expressions `<aggregation> <operator> <value>`: a trend takes `avg`, `min`, `max`, `med`, `p(N)` (and `count`); a rate `rate` (0..1, and `count`); a counter `count` and `rate` (per second); a gauge `value`.
 */
export interface Thresholds {
  /**
   * Request latency from the intended start (coordinated omission corrected): results.json summary.load.latencyUs. k6 type: trend.
   */
  latency?: ThresholdList;
  /**
   * Service time, from the actual start to the end of the response: summary.load.serviceUs. k6 type: trend.
   */
  service?: ThresholdList;
  /**
   * TCP connect time: summary.load.connectUs. k6: http_req_connecting. k6 type: trend.
   */
  connect?: ThresholdList;
  /**
   * k6's name for `connect`: TCP connect time: summary.load.connectUs. k6: http_req_connecting. k6 type: trend.
   */
  http_req_connecting?: ThresholdList;
  /**
   * Time to first byte, from the request written to the first response byte: summary.load.ttfbUs. k6: http_req_waiting. k6 type: trend.
   */
  ttfb?: ThresholdList;
  /**
   * k6's name for `ttfb`: Time to first byte, from the request written to the first response byte: summary.load.ttfbUs. k6: http_req_waiting. k6 type: trend.
   */
  http_req_waiting?: ThresholdList;
  /**
   * Name resolution, timed apart from the connect (only when load.target is a name): summary.load.dnsUs. k6 type: trend.
   */
  dns?: ThresholdList;
  /**
   * How late each iteration started after its intended start (open model): summary.load.schedulerLagUs. k6 type: trend.
   */
  scheduler_lag?: ThresholdList;
  /**
   * Time from a data point's export to its first visibility in Prometheus (backends.prometheus): readback.visibility. k6 type: trend.
   */
  visibility_lag?: ThresholdList;
  /**
   * Failed requests: no HTTP response (connection error, timeout) or a status outside 2xx/3xx, over requests. k6: http_req_failed. k6 type: rate.
   */
  errors?: ThresholdList;
  /**
   * k6's name for `errors`: Failed requests: no HTTP response (connection error, timeout) or a status outside 2xx/3xx, over requests. k6: http_req_failed. k6 type: rate.
   */
  http_req_failed?: ThresholdList;
  /**
   * Requests that ended with the ECONNREFUSED connection error class, over requests. k6 type: rate.
   */
  'errors{class:ECONNREFUSED}'?: ThresholdList;
  /**
   * Requests that ended with the ECONNRESET connection error class, over requests. k6 type: rate.
   */
  'errors{class:ECONNRESET}'?: ThresholdList;
  /**
   * Requests that ended with the ETIMEDOUT connection error class, over requests. k6 type: rate.
   */
  'errors{class:ETIMEDOUT}'?: ThresholdList;
  /**
   * Requests that ended with the EADDRNOTAVAIL connection error class, over requests. k6 type: rate.
   */
  'errors{class:EADDRNOTAVAIL}'?: ThresholdList;
  /**
   * Requests that ended with the EADDRINUSE connection error class, over requests. k6 type: rate.
   */
  'errors{class:EADDRINUSE}'?: ThresholdList;
  /**
   * Requests that ended with the EMFILE connection error class, over requests. k6 type: rate.
   */
  'errors{class:EMFILE}'?: ThresholdList;
  /**
   * Requests that ended with the EPIPE connection error class, over requests. k6 type: rate.
   */
  'errors{class:EPIPE}'?: ThresholdList;
  /**
   * Requests that ended with the EHOSTUNREACH connection error class, over requests. k6 type: rate.
   */
  'errors{class:EHOSTUNREACH}'?: ThresholdList;
  /**
   * Requests that ended with the ENETUNREACH connection error class, over requests. k6 type: rate.
   */
  'errors{class:ENETUNREACH}'?: ThresholdList;
  /**
   * Requests that ended with the ENOTFOUND connection error class, over requests. k6 type: rate.
   */
  'errors{class:ENOTFOUND}'?: ThresholdList;
  /**
   * Requests that ended with the EAI_AGAIN connection error class, over requests. k6 type: rate.
   */
  'errors{class:EAI_AGAIN}'?: ThresholdList;
  /**
   * Requests that ended with the protocol_error connection error class, over requests. k6 type: rate.
   */
  'errors{class:protocol_error}'?: ThresholdList;
  /**
   * Requests that ended with the invalid_response connection error class, over requests. k6 type: rate.
   */
  'errors{class:invalid_response}'?: ThresholdList;
  /**
   * Requests that ended with the response_too_large connection error class, over requests. k6 type: rate.
   */
  'errors{class:response_too_large}'?: ThresholdList;
  /**
   * Requests that ended with the generator_stall connection error class, over requests. k6 type: rate.
   */
  'errors{class:generator_stall}'?: ThresholdList;
  /**
   * Requests that ended with the other connection error class, over requests. k6 type: rate.
   */
  'errors{class:other}'?: ThresholdList;
  /**
   * Responses with a 4xx status, over requests. k6 type: rate.
   */
  'errors{status:4xx}'?: ThresholdList;
  /**
   * Responses with a 5xx status, over requests. k6 type: rate.
   */
  'errors{status:5xx}'?: ThresholdList;
  /**
   * Connection errors that are limits or stalls of the generator host (EADDRNOTAVAIL, EADDRINUSE, EMFILE, generator_stall), over requests. k6 type: rate.
   */
  'errors{side:generator}'?: ThresholdList;
  /**
   * Every other connection error class, over requests. k6 type: rate.
   */
  'errors{side:target}'?: ThresholdList;
  /**
   * Iterations started later than load.lateStartThreshold after their intended start, over iterations started. k6 type: rate.
   */
  late_starts?: ThresholdList;
  /**
   * Due iterations dropped because maxInFlight was reached (k6's name and meaning). k6 type: counter.
   */
  dropped_iterations?: ThresholdList;
  /**
   * Iterations completed (k6's name and meaning). k6 type: counter.
   */
  iterations?: ThresholdList;
  /**
   * Requests settled, with a response or an error: summary.load.requests. k6: http_reqs. k6 type: counter.
   */
  requests?: ThresholdList;
  /**
   * k6's name for `requests`: Requests settled, with a response or an error: summary.load.requests. k6: http_reqs. k6 type: counter.
   */
  http_reqs?: ThresholdList;
  /**
   * Connects whose time sits at a SYN-retransmit time of this kernel, as many as the SYN retransmits of the namespace the sockets live in bear out (dropped SYNs): summary.load.synRetransmit.corroborated. k6 type: counter.
   */
  syn_retransmit_signature?: ThresholdList;
  /**
   * Requests that got a response, per second: summary.load.achievedRatePerSecond. k6 type: gauge.
   */
  achieved_rate?: ThresholdList;
  /**
   * Achieved rate over the planned arrival rate (open-model executors). k6 type: gauge.
   */
  achieved_rate_ratio?: ThresholdList;
  /**
   * OTLP data points sent and never received, over points sent: summary.metrics.lossRatio (a reconciled run: the embedded receiver or backends.prometheus). k6 type: rate.
   */
  otlp_loss?: ThresholdList;
  /**
   * Missing data points the rejected stage admits to, over points sent: summary.metrics.missingByExportStage. k6 type: rate.
   */
  'otlp_loss{stage:rejected}'?: ThresholdList;
  /**
   * Missing data points the failed export stage admits to, over points sent: summary.metrics.missingByExportStage. k6 type: rate.
   */
  'otlp_loss{stage:failed_export}'?: ThresholdList;
  /**
   * Missing data points the dropped by queue stage admits to, over points sent: summary.metrics.missingByExportStage. k6 type: rate.
   */
  'otlp_loss{stage:dropped_by_queue}'?: ThresholdList;
  /**
   * Missing data points the unsettled stage admits to, over points sent: summary.metrics.missingByExportStage. k6 type: rate.
   */
  'otlp_loss{stage:unsettled}'?: ThresholdList;
  /**
   * Missing data points the lost after ack stage admits to, over points sent: summary.metrics.missingByExportStage. k6 type: rate.
   */
  'otlp_loss{stage:lost_after_ack}'?: ThresholdList;
  /**
   * Data points received more than once, over points sent. k6 type: rate.
   */
  otlp_duplicates?: ThresholdList;
  /**
   * Data points received with a value other than the one sent, over points sent. k6 type: rate.
   */
  otlp_value_mismatches?: ThresholdList;
  /**
   * Data points received that the run never sent, over points sent. k6 type: rate.
   */
  otlp_unexpected?: ThresholdList;
  /**
   * Spans sent and never received by the embedded receiver, over spans sent: summary.traces.spanLossRatio. k6 type: rate.
   */
  span_loss?: ThresholdList;
  /**
   * Traces with no span received, over traces sent (embedded receiver), or the share of the Tempo sample lost (backends.tempo). k6 type: rate.
   */
  trace_loss?: ThresholdList;
  /**
   * Packets conntrack dropped (a full table), /proc/net/stat/nf_conntrack `drop`, over the run. k6 type: counter.
   */
  conntrack_drops?: ThresholdList;
  /**
   * Entries conntrack could not insert (`insert_failed`), over the run. k6 type: counter.
   */
  conntrack_insert_failed?: ThresholdList;
  /**
   * Entries conntrack evicted to make room (`early_drop`), over the run. k6 type: counter.
   */
  conntrack_early_drop?: ThresholdList;
  /**
   * Accept-queue overflows (TcpExt ListenOverflows), over the run. k6 type: counter.
   */
  listen_overflows?: ThresholdList;
  /**
   * SYNs dropped at a listener (TcpExt ListenDrops), over the run. k6 type: counter.
   */
  listen_drops?: ThresholdList;
  /**
   * SYN retransmissions (TcpExt TCPSynRetrans), over the run. k6 type: counter.
   */
  syn_retransmits?: ThresholdList;
  /**
   * TCP segments retransmitted (Tcp RetransSegs), over the run. k6 type: counter.
   */
  tcp_retransmits?: ThresholdList;
  /**
   * Failed TCP connection attempts (Tcp AttemptFails), over the run. k6 type: counter.
   */
  tcp_attempt_fails?: ThresholdList;
  /**
   * Established TCP connections reset (Tcp EstabResets), over the run. k6 type: counter.
   */
  tcp_estab_resets?: ThresholdList;
  /**
   * Whether the generator, not the target, may have limited the run: generator.saturated. k6 type: gauge.
   */
  generator_saturated?: ThresholdList;
}
/**
 * A cardinality budget of the scenario's metrics, checked before anything is sent (`tally plan`, `tally run`, every step of `tally sweep`): a limit exceeded is a warning, or with enforce a refusal (exit 2, naming the limit's JSON pointer).
 */
export interface Budget {
  /**
   * Most series over every metric, as Prometheus stores them (a classic histogram is one series per bucket, plus _sum and _count).
   */
  maxSeries?: number;
  /**
   * Most data points per second over every metric (series ÷ exportInterval).
   */
  maxDataPointsPerSecond?: number;
  /**
   * Most bytes per second on the wire, as the scenario's transport sends them (OTLP request bodies, gzip when compressed; remote-write bodies, snappy-compressed), counted exactly by the encoders that send them.
   */
  maxBytesPerSecond?: number;
  /**
   * Most memory the series may take in the backend: series × the bytes per series `tally plan --calibrate <prometheus-url>` measured there. Not checked without a calibration (plan says so).
   */
  maxStorageBytes?: number;
  /**
   * Refuse the scenario (exit 2, nothing sent) when a limit is exceeded; false: warn and go on.
   */
  enforce?: boolean;
}
