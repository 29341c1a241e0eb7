// Drives Microsoft's JavaScript/TypeScript Graph SDKs against an authlake server and prints what
// they got as one JSON object; ../node_test.go starts the server, runs this and checks the result.
//
// @microsoft/msgraph-sdk (Kiota) has no fluent auditLogs or identityProtection package in the
// registry, so requests are built with kiota-abstractions' RequestInformation, sent through the
// SDK's GraphRequestAdapter with Microsoft's Azure Identity authentication provider, parsed by the
// SDK's models, and paged with msgraph-sdk-core's PageIterator. @microsoft/microsoft-graph-client
// v3 is used as its README shows, with the server's host as a custom host.
//
// Environment: AUTHLAKE_BASE (https://127.0.0.1:PORT), AUTHLAKE_READ_TOKEN, AUTHLAKE_WRITE_TOKEN,
// AUTHLAKE_FILTERS (JSON array of $filter values), NODE_EXTRA_CA_CERTS (the server's certificate).
import { GraphRequestAdapter } from "@microsoft/msgraph-sdk";
import {
  createSignInCollectionResponseFromDiscriminatorValue,
  createSignInFromDiscriminatorValue,
  createRiskyUserCollectionResponseFromDiscriminatorValue,
  createRiskyUserFromDiscriminatorValue,
  createRiskDetectionCollectionResponseFromDiscriminatorValue,
  createRiskyUserHistoryItemCollectionResponseFromDiscriminatorValue,
} from "@microsoft/msgraph-sdk/models/index.js";
import { createODataErrorFromDiscriminatorValue } from "@microsoft/msgraph-sdk/models/oDataErrors/index.js";
import { PageIterator } from "@microsoft/msgraph-sdk-core";
import { AzureIdentityAuthenticationProvider } from "@microsoft/kiota-authentication-azure";
import { RequestInformation, HttpMethod } from "@microsoft/kiota-abstractions";
import { Client, PageIterator as ClientPageIterator } from "@microsoft/microsoft-graph-client";

const base = process.env.AUTHLAKE_BASE;
const host = new URL(base).hostname;
const filters = JSON.parse(process.env.AUTHLAKE_FILTERS);
const errors = { XXX: createODataErrorFromDiscriminatorValue };

// A TokenCredential as @azure/identity's credentials are: the provider around it is Microsoft's.
const credential = (token) => ({ getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }) });
const adapterFor = (token) => {
  const auth = new AzureIdentityAuthenticationProvider(credential(token), ["https://graph.microsoft.com/.default"], undefined, new Set([host]));
  const a = new GraphRequestAdapter(auth);
  a.baseUrl = base + "/v1.0";
  return a;
};
const request = (a, method, template, query = {}) => {
  const ri = new RequestInformation(method, template);
  ri.pathParameters["baseurl"] = a.baseUrl;
  for (const [k, v] of Object.entries(query)) ri.queryParameters[k] = v;
  ri.headers.tryAdd("Accept", "application/json");
  return ri;
};
const odataError = async (p) => {
  try {
    await p;
    return null;
  } catch (e) {
    return { status: e.responseStatusCode ?? null, code: e.errorEscaped?.code ?? null };
  }
};

const out = { kiota: { lists: {} }, client: { lists: {} } };
const reader = adapterFor(process.env.AUTHLAKE_READ_TOKEN);

// Kiota: each filter, paged to the end.
for (const f of filters) {
  const query = { "%24top": 400 };
  if (f) query["%24filter"] = f;
  const page = await reader.send(request(reader, HttpMethod.GET, "{+baseurl}/auditLogs/signIns{?%24filter,%24top}", query), createSignInCollectionResponseFromDiscriminatorValue, errors);
  const ids = [];
  const it = new PageIterator(reader, page, (s) => { ids.push(s.id); return true; }, createSignInCollectionResponseFromDiscriminatorValue, errors);
  await it.iterate();
  out.kiota.lists[f] = ids;
}
const firstId = out.kiota.lists[""][0];
const ri = request(reader, HttpMethod.GET, "{+baseurl}/auditLogs/signIns/{signIn%2Did}");
ri.pathParameters["signIn%2Did"] = firstId;
const got = await reader.send(ri, createSignInFromDiscriminatorValue, errors);
out.kiota.get = { id: got.id, createdDateTime: got.createdDateTime?.toISOString() ?? null, errorCode: got.status?.errorCode ?? null, userPrincipalName: got.userPrincipalName };
const missing = request(reader, HttpMethod.GET, "{+baseurl}/auditLogs/signIns/{signIn%2Did}");
missing.pathParameters["signIn%2Did"] = "00000000-0000-4000-8000-000000000000";
out.kiota.notFound = await odataError(reader.send(missing, createSignInFromDiscriminatorValue, errors));
out.kiota.badFilter = await odataError(reader.send(request(reader, HttpMethod.GET, "{+baseurl}/auditLogs/signIns{?%24filter}", { "%24filter": "userPrincipalName eq" }), createSignInCollectionResponseFromDiscriminatorValue, errors));

// Kiota: Identity Protection reads and an action.
const writer = adapterFor(process.env.AUTHLAKE_WRITE_TOKEN);
const users = await writer.send(request(writer, HttpMethod.GET, "{+baseurl}/identityProtection/riskyUsers"), createRiskyUserCollectionResponseFromDiscriminatorValue, errors);
const dets = await writer.send(request(writer, HttpMethod.GET, "{+baseurl}/identityProtection/riskDetections"), createRiskDetectionCollectionResponseFromDiscriminatorValue, errors);
out.kiota.riskyUsers = users.value.length;
out.kiota.riskDetections = dets.value.length;
const uid = users.value[0].id;
const action = request(writer, HttpMethod.POST, "{+baseurl}/identityProtection/riskyUsers/confirmCompromised");
action.setContentFromParsable(writer, "application/json", { userIds: [uid] }, (w, v) => w.writeCollectionOfPrimitiveValues("userIds", v.userIds));
await writer.sendNoResponseContent(action, errors);
const user = request(writer, HttpMethod.GET, "{+baseurl}/identityProtection/riskyUsers/{riskyUser%2Did}");
user.pathParameters["riskyUser%2Did"] = uid;
out.kiota.afterAction = (await writer.send(user, createRiskyUserFromDiscriminatorValue, errors)).riskState;
const hist = request(writer, HttpMethod.GET, "{+baseurl}/identityProtection/riskyUsers/{riskyUser%2Did}/history");
hist.pathParameters["riskyUser%2Did"] = uid;
out.kiota.history = (await writer.send(hist, createRiskyUserHistoryItemCollectionResponseFromDiscriminatorValue, errors)).value.map((h) => ({ id: h.id, riskState: h.riskState }));

// microsoft-graph-client v3, as its README shows.
const client = Client.initWithMiddleware({
  authProvider: { getAccessToken: async () => process.env.AUTHLAKE_READ_TOKEN },
  baseUrl: base + "/",
  defaultVersion: "v1.0",
  customHosts: new Set([host]), // the client compares the host name, without the port
});
for (const f of filters) {
  let req = client.api("/auditLogs/signIns").top(400);
  if (f) req = req.filter(f);
  const resp = await req.get();
  const ids = [];
  const it = new ClientPageIterator(client, resp, (s) => { ids.push(s.id); return true; });
  await it.iterate();
  out.client.lists[f] = ids;
}
out.client.get = (await client.api("/auditLogs/signIns/" + firstId).get()).id;
try {
  await client.api("/auditLogs/signIns/00000000-0000-4000-8000-000000000000").get();
  out.client.notFound = null;
} catch (e) {
  out.client.notFound = { status: e.statusCode, code: e.code };
}
process.stdout.write(JSON.stringify(out));
