import Logging
import ServiceLifecycle

/// Brings to this instance's live sockets the entries other instances append to the campaigns
/// they follow. A ring names a campaign and a sequence; the relay reads that entry from the log
/// and publishes it to the local sockets, each of which first reads from the log whatever it
/// has not yet sent before it (``LiveSocket``): so rings that arrive out of order, or not at all
/// while the listener reconnects, lose nothing. When the listener (re)starts, the newest entry of
/// every campaign followed here is published the same way.
struct LiveRelay: Service {
    let doorbell: any CampaignDoorbell
    let hub: any LiveHub
    let play: PlayService
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await doorbell.listen { ring in await self.heard(ring) }
            }
        } catch is CancellationError {
            // Shutting down.
        }
    }

    func heard(_ ring: DoorbellRing) async {
        switch ring {
        case .entry(let campaignId, let sequence):
            await relay(campaignId, sequence: sequence)
        case .listening:
            for campaignId in hub.followedCampaigns() { await relay(campaignId, sequence: nil) }
        }
    }

    /// Publishes the campaign's entry `sequence` (its newest when nil) to the local sockets.
    func relay(_ campaignId: String, sequence: Int64?) async {
        guard hub.subscriberCount(campaignId: campaignId) > 0 else { return }
        do {
            var target = sequence
            if target == nil { target = try await play.newestSequence(campaignId: campaignId) }
            guard let target, target > 0 else { return }
            let page = try await play.log(campaignId: campaignId, CampaignEventFilter(), after: target - 1, limit: 1)
            guard let event = page.events.first else { return }
            let entry = try API.logEntry(event, commitment: event.sessionId.flatMap { page.commitments[$0] })
            hub.publish(.event(event, envelope: try LiveEnvelope.render(entry, campaignId: campaignId)), campaignId: campaignId)
        } catch {
            // The entry stays in the log: the campaign's sockets read it when the next one comes.
            logger.warning("an entry of another instance could not be relayed", metadata: [
                "campaign": "\(campaignId)", "sequence": "\(sequence.map(String.init) ?? "newest")", "error": "\(error)"])
        }
    }
}
