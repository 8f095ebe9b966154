#!/usr/bin/env node
import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);
import {
  require_caching_sha2_password,
  require_charset_encodings,
  require_charsets,
  require_connection,
  require_connection_config,
  require_create_connection,
  require_create_pool,
  require_create_pool_cluster,
  require_lib,
  require_mysql_clear_password,
  require_mysql_native_password,
  require_parser_cache,
  require_pool,
  require_pool_cluster,
  require_pool_connection,
  require_promise,
  require_sha256_password,
  require_typed_parameter,
  require_types
} from "./chunk-QJQBWH6W.mjs";
import {
  __commonJS,
  __require
} from "./chunk-LDKIQA67.mjs";

// node_modules/.pnpm/mysql2@3.24.6_@types+node@20.19.43/node_modules/mysql2/lib/server.js
var require_server = __commonJS({
  "node_modules/.pnpm/mysql2@3.24.6_@types+node@20.19.43/node_modules/mysql2/lib/server.js"(exports, module) {
    "use strict";
    var net = __require("net");
    var EventEmitter = __require("events").EventEmitter;
    var Connection = require_connection();
    var ConnectionConfig = require_connection_config();
    var Server = class extends EventEmitter {
      constructor() {
        super();
        this.connections = [];
        this._server = net.createServer(this._handleConnection.bind(this));
      }
      _handleConnection(socket) {
        const connectionConfig = new ConnectionConfig({
          stream: socket,
          isServer: true
        });
        const connection = new Connection({ config: connectionConfig });
        this.emit("connection", connection);
      }
      listen(port) {
        this._port = port;
        this._server.listen.apply(this._server, arguments);
        return this;
      }
      close(cb) {
        this._server.close(cb);
      }
    };
    module.exports = Server;
  }
});

// node_modules/.pnpm/mysql2@3.24.6_@types+node@20.19.43/node_modules/mysql2/lib/auth_plugins/index.js
var require_auth_plugins = __commonJS({
  "node_modules/.pnpm/mysql2@3.24.6_@types+node@20.19.43/node_modules/mysql2/lib/auth_plugins/index.js"(exports, module) {
    "use strict";
    module.exports = {
      caching_sha2_password: require_caching_sha2_password(),
      mysql_clear_password: require_mysql_clear_password(),
      mysql_native_password: require_mysql_native_password(),
      sha256_password: require_sha256_password()
    };
  }
});

// node_modules/.pnpm/mysql2@3.24.6_@types+node@20.19.43/node_modules/mysql2/index.js
var require_mysql2 = __commonJS({
  "node_modules/.pnpm/mysql2@3.24.6_@types+node@20.19.43/node_modules/mysql2/index.js"(exports) {
    var SqlString = require_lib();
    var ConnectionConfig = require_connection_config();
    var parserCache = require_parser_cache();
    var Connection = require_connection();
    exports.createConnection = require_create_connection();
    exports.connect = exports.createConnection;
    exports.Connection = Connection;
    exports.ConnectionConfig = ConnectionConfig;
    var Pool = require_pool();
    var PoolCluster = require_pool_cluster();
    var createPool = require_create_pool();
    var createPoolCluster = require_create_pool_cluster();
    exports.createPool = createPool;
    exports.createPoolCluster = createPoolCluster;
    exports.createQuery = Connection.createQuery;
    exports.Pool = Pool;
    exports.PoolCluster = PoolCluster;
    exports.createServer = function(handler) {
      const Server = require_server();
      const s = new Server();
      if (handler) {
        s.on("connection", handler);
      }
      return s;
    };
    exports.PoolConnection = require_pool_connection();
    exports.authPlugins = require_auth_plugins();
    exports.escape = SqlString.escape;
    exports.escapeId = SqlString.escapeId;
    exports.format = SqlString.format;
    exports.raw = SqlString.raw;
    exports.__defineGetter__(
      "createConnectionPromise",
      () => require_promise().createConnection
    );
    exports.__defineGetter__(
      "createPoolPromise",
      () => require_promise().createPool
    );
    exports.__defineGetter__(
      "createPoolClusterPromise",
      () => require_promise().createPoolCluster
    );
    exports.__defineGetter__("Types", () => require_types());
    exports.__defineGetter__(
      "TypedParameter",
      () => require_typed_parameter().types
    );
    exports.__defineGetter__(
      "Charsets",
      () => require_charsets()
    );
    exports.__defineGetter__(
      "CharsetToEncoding",
      () => require_charset_encodings()
    );
    exports.setMaxParserCache = function(max) {
      parserCache.setMaxCache(max);
    };
    exports.clearParserCache = function() {
      parserCache.clearCache();
    };
  }
});
export default require_mysql2();
//# sourceMappingURL=mysql2-CYM7OIAR.mjs.map
