// The MongoDB store on the mingo stand-in (test/support/mingo-db.ts), as a server process would
// start it on each kind of deployment: the layout the deployment calls for (sharded behind a
// mongos), its collections and indexes laid out, the fills run.
import { deploymentOf } from '../../src/store/mongo/connection.ts';
import { shardKeys } from '../../src/store/mongo/layout.ts';
import { MongoStore } from '../../src/store/mongo/mongo-store.ts';
import { MingoDb, type Topology } from '../support/mingo-db.ts';

/** A stand-in of this deployment; a sharded cluster has every collection sharded as the plan says. */
export function standIn(topology: Topology): MingoDb {
  return new MingoDb({ topology, shardKeys: shardKeys() });
}

/** The store on db, started as openMongoStore starts it on a server. */
export async function startOn(db: MingoDb, indexBuildWaitMs?: number): Promise<MongoStore> {
  const deployment = deploymentOf(await db.command({ hello: 1 }));
  const store = new MongoStore(db, { transactions: db.transactions, sharded: deployment.mongos });
  await store.start(indexBuildWaitMs);
  return store;
}
