import Foundation
import Synchronization

/// Who is connected to a campaign's live socket.
package struct PresenceEntry: Sendable, Equatable {
    package var userId: String
    package var username: String
    /// Open sockets of this user (several tabs or devices).
    package var connections: Int
}

/// What reaches the sockets of a campaign: a stored event of its log (with its envelope, rendered
/// once for every socket), or who is connected now.
package enum LiveMessage: Sendable, Equatable {
    case event(CampaignEvent, envelope: String)
    case presence([PresenceEntry])
}

/// The one interface through which events reach connected clients. The in-process
/// implementation serves one server process; one over a message broker (PostgreSQL
/// LISTEN/NOTIFY, Redis) would let several instances share campaigns, with nothing else
/// changing: the log in the database stays the source of truth, and sockets fill any gap from it.
package protocol LiveHub: Sendable {
    /// Delivers to every subscriber of the campaign, without waiting for any of them.
    func publish(_ message: LiveMessage, campaignId: String)
    /// A subscription buffering at most `limit` messages; past that it ends as overflowed.
    func subscribe(campaignId: String, limit: Int) -> LiveSubscription
    /// Records a connection of a user (and publishes the new presence when the user arrives).
    func connect(campaignId: String, userId: String, username: String)
    /// Records its end (and publishes the new presence when the user's last socket goes).
    func disconnect(campaignId: String, userId: String)
    func presence(campaignId: String) -> [PresenceEntry]
    /// The campaign's subscribers now. A publisher with none to tell skips rendering the
    /// message: a socket that subscribes later reads what it missed from the log.
    func subscriberCount(campaignId: String) -> Int
    /// The campaigns that have subscribers now.
    func followedCampaigns() -> [String]
}

/// One subscriber's stream of messages. A subscriber that falls `limit` messages behind is cut
/// off (``overflowed``) rather than buffering without bound.
package final class LiveSubscription: Sendable {
    package let messages: AsyncStream<LiveMessage>
    private let continuation: AsyncStream<LiveMessage>.Continuation
    private let state = Mutex<(overflowed: Bool, ended: Bool)>((false, false))
    private let onEnd: @Sendable () -> Void

    init(limit: Int, onEnd: @escaping @Sendable () -> Void) {
        (messages, continuation) = AsyncStream.makeStream(of: LiveMessage.self, bufferingPolicy: .bufferingOldest(limit))
        self.onEnd = onEnd
    }

    /// True once a message could not be buffered: the subscriber is too slow.
    package var overflowed: Bool { state.withLock { $0.overflowed } }

    func deliver(_ message: LiveMessage) {
        if case .dropped = continuation.yield(message) {
            let first = state.withLock { state -> Bool in
                defer { state.overflowed = true }
                return !state.overflowed
            }
            if first {
                continuation.finish()
                cancel()
            }
        }
    }

    /// Ends the subscription (idempotent).
    package func cancel() {
        let first = state.withLock { state -> Bool in
            defer { state.ended = true }
            return !state.ended
        }
        guard first else { return }
        continuation.finish()
        onEnd()
    }
}

/// The in-process hub: subscribers and presence in memory, guarded by one lock each.
package final class InProcessLiveHub: LiveHub {
    private let subscribers = Mutex<[String: [ObjectIdentifier: LiveSubscription]]>([:])
    private let connected = Mutex<[String: [String: PresenceEntry]]>([:])

    package init() {}

    package func publish(_ message: LiveMessage, campaignId: String) {
        let targets = subscribers.withLock { Array(($0[campaignId] ?? [:]).values) }
        for subscriber in targets { subscriber.deliver(message) }
    }

    package func subscribe(campaignId: String, limit: Int) -> LiveSubscription {
        let box = Mutex<ObjectIdentifier?>(nil)
        let subscription = LiveSubscription(limit: limit) { [weak self] in
            guard let id = box.withLock({ $0 }) else { return }
            self?.subscribers.withLock { all in
                all[campaignId]?[id] = nil
                if all[campaignId]?.isEmpty == true { all[campaignId] = nil }
            }
        }
        let id = ObjectIdentifier(subscription)
        box.withLock { $0 = id }
        subscribers.withLock { $0[campaignId, default: [:]][id] = subscription }
        return subscription
    }

    /// Presence is published when a user arrives or leaves, not for each further socket of a
    /// user already there: a crowd of sockets costs one message per person, not per socket.
    package func connect(campaignId: String, userId: String, username: String) {
        let (now, arrived) = connected.withLock { all -> ([PresenceEntry], Bool) in
            var entry = all[campaignId]?[userId] ?? PresenceEntry(userId: userId, username: username, connections: 0)
            entry.connections += 1
            all[campaignId, default: [:]][userId] = entry
            return (Self.sorted(all[campaignId]), entry.connections == 1)
        }
        if arrived { publish(.presence(now), campaignId: campaignId) }
    }

    package func disconnect(campaignId: String, userId: String) {
        let (now, left) = connected.withLock { all -> ([PresenceEntry], Bool) in
            var left = false
            if var entry = all[campaignId]?[userId] {
                entry.connections -= 1
                left = entry.connections == 0
                all[campaignId]?[userId] = left ? nil : entry
            }
            if all[campaignId]?.isEmpty == true { all[campaignId] = nil }
            return (Self.sorted(all[campaignId]), left)
        }
        if left { publish(.presence(now), campaignId: campaignId) }
    }

    package func presence(campaignId: String) -> [PresenceEntry] {
        connected.withLock { Self.sorted($0[campaignId]) }
    }

    package func followedCampaigns() -> [String] {
        subscribers.withLock { Array($0.keys) }
    }

    package func subscriberCount(campaignId: String) -> Int {
        subscribers.withLock { $0[campaignId]?.count ?? 0 }
    }

    private static func sorted(_ entries: [String: PresenceEntry]?) -> [PresenceEntry] {
        (entries ?? [:]).values.sorted { ($0.username, $0.userId) < ($1.username, $1.userId) }
    }
}
