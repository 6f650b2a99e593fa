/// Depth-first search with an explicit stack: graphs from content (chains of derived values
/// thousands long) cannot overflow the call stack.
package enum Graph {
    /// Visits every node, children before parents; calls `finished` for each node once all it
    /// points to are finished. Returns the first cycle found (its nodes, the first repeated at the
    /// end), or nil.
    package static func depthFirst(count: Int, edges: (Int) -> [Int], finished: (Int) -> Void) -> [Int]? {
        var state = [UInt8](repeating: 0, count: count)  // 0 new, 1 on the path, 2 done
        var stack: [(node: Int, next: Int, edges: [Int])] = []
        for root in 0..<count where state[root] == 0 {
            state[root] = 1
            stack.append((root, 0, edges(root)))
            while !stack.isEmpty {
                let top = stack.count - 1
                if stack[top].next < stack[top].edges.count {
                    let child = stack[top].edges[stack[top].next]
                    stack[top].next += 1
                    guard child >= 0, child < count else { continue }
                    switch state[child] {
                    case 0:
                        state[child] = 1
                        stack.append((child, 0, edges(child)))
                    case 1:
                        let start = stack.firstIndex { $0.node == child } ?? 0
                        return stack[start...].map(\.node) + [child]
                    default:
                        break
                    }
                } else {
                    state[stack[top].node] = 2
                    finished(stack[top].node)
                    stack.removeLast()
                }
            }
        }
        return nil
    }
}
