import { createRequire } from 'node:module';
import { SpanKind, SpanStatusCode, context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { ClientInterceptors } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { NextFunction, Request, Response } from 'express';
import { routeTemplateOf } from './metrics.js';

/**
 * OpenTelemetry traces: API request -> StartWorkflow -> workflow -> activities, one trace.
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test hands in its own span processor): then
 * nothing is registered, no interceptor is installed and nothing is bundled into the workflows,
 * so tracing costs nothing.
 */
export interface Tracing {
  resource: Resource;
  spanProcessor: SpanProcessor;
  tracer: Tracer;
  shutdown(): Promise<void>;
}

export function startTracing(options: { serviceName: string; endpoint?: string; spanProcessor?: SpanProcessor }): Tracing | undefined {
  if (!options.endpoint && !options.spanProcessor) return undefined;
  const resource = new Resource({ 'service.name': options.serviceName });
  const spanProcessor =
    options.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.endpoint!.replace(/\/$/, '')}/v1/traces` }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Global provider, AsyncLocalStorage context and the W3C traceparent propagator.
  provider.register();
  return {
    resource,
    spanProcessor,
    tracer: provider.getTracer('eventbook'),
    shutdown: () => provider.shutdown(),
  };
}

/** Interceptors for a Temporal Client: workflow starts, signals and updates become spans, carried in the headers. */
export function tracingClientInterceptors(tracing: Tracing | undefined): ClientInterceptors | undefined {
  return tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/** The workflow-side interceptors: a module the workflow bundle must include (workflowInterceptorModules). */
export function tracingWorkflowModules(tracing: Tracing | undefined): string[] {
  if (!tracing) return [];
  return [createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];
}

/** What a worker adds when tracing: activity spans (children of the workflow's), workflow spans exported through a sink. */
export function tracingWorkerParts(tracing: Tracing | undefined): {
  activity: ActivityInterceptorsFactory[];
  workflowModules: string[];
  sinks: InjectedSinks<Record<string, never>>;
} {
  if (!tracing) return { activity: [], workflowModules: [], sinks: {} };
  return {
    activity: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    workflowModules: tracingWorkflowModules(tracing),
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) } as unknown as InjectedSinks<Record<string, never>>,
  };
}

/**
 * Express middleware: one server span per request, continuing the caller's trace (traceparent),
 * named by the matched route template once the answer is sent. The request and response emitters
 * are bound to the span's context so body parsing and handlers run inside it.
 */
export function traceHttpRequests(tracing: Tracing) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracing.tracer.startSpan(`${req.method}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
    const active = trace.setSpan(parent, span);
    context.bind(active, req);
    context.bind(active, res);
    res.once('finish', () => {
      const route = routeTemplateOf(req);
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(active, next);
  };
}
