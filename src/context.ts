// What every request (or WebSocket operation) carries: the viewer, the process's services, and
// loaders that are fresh per request, so no request ever sees another's cache.
import { type Loaders, createLoaders } from '../loaders/index.ts';
import type { ViewerResolver } from './auth/viewer.ts';
import type { Config } from './config.ts';
import type { Viewer } from './domain/types.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { EventBus } from './realtime/bus.ts';
import type { ChannelFeeds } from './realtime/feeds.ts';
import type { PushService } from './push/service.ts';
import type { PresenceTracker } from './realtime/presence.ts';
import type { RateLimits } from './services/rate-limit.ts';
import type { Store } from './store/store.ts';

/** The long-lived parts of one server process, built once by main(). */
export interface AppDeps {
  config: Config;
  logger: Logger;
  store: Store;
  bus: EventBus;
  feeds: ChannelFeeds;
  presence: PresenceTracker;
  push: PushService;
  viewers: ViewerResolver;
  /** Writes per user and window, by kind (services/rate-limit.ts). */
  rateLimits: RateLimits;
  metrics: Metrics;
}

export interface RequestContext {
  viewer: Viewer;
  deps: AppDeps;
  /** The loaders of the current request, or of the current event of a subscription. */
  readonly loaders: Loaders;
  /** Starts a new loader cache: a subscription calls it before resolving each event. */
  refreshLoaders(): void;
}

/** A context for one request or one WebSocket operation of the viewer. */
export function createContext(deps: AppDeps, viewer: Viewer): RequestContext {
  // Refreshing renews the loaders inside one object: Yoga copies the context's properties into
  // its own, so the object must stay the same for everyone holding it.
  const loaders = createLoaders(deps.store);
  return {
    viewer,
    deps,
    loaders,
    refreshLoaders() {
      loaders.renew();
    },
  };
}
